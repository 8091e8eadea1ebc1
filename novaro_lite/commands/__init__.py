"""The CLI's command groups, one module each; novaro_lite/cli.py assembles them."""
