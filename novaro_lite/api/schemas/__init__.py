"""Pydantic models: the wire format (camelCase) that validates requests and documents the API, one module per
resource; wire.py holds the base every model shares.

The same models feed /openapi.json, so what is validated is what is documented. Domain rules come
from novaro_lite.domain; these models only translate between JSON and domain dataclasses.
"""
