"""LLM providers: one module per outbound API, all behind the Protocol in base.py."""
