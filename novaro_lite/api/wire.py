"""The base of every wire model: camelCase JSON, strict types, unknown fields refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    # strict: JSON `0` is not `false` and "5" is not 5, so what the schema says is what is accepted.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True)


def _drop_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


def no_defaults() -> ConfigDict:
    """Config for PATCH models: a field that is absent stays as it is, so no property shows a default."""
    return ConfigDict(json_schema_extra=_drop_defaults)
