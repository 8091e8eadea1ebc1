"""The base of every wire model (camelCase JSON, strict types, unknown fields refused), the base of PATCH bodies,
and the name field agents and contexts share."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from novaro_lite.domain import agents, contexts


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must have a character other than spaces")
    return value


# A name (of an agent, context or token) that is not only spaces, which no list could tell apart. The
# schema states it as a pattern; the check is a validator so the 422 says it in plain words.
NotBlank = AfterValidator(_not_blank)
NOT_BLANK_SCHEMA = {"pattern": r"\S"}

# An agent's or a context's name, within both domain limits (today the same).
Name = Annotated[
    str,
    Field(min_length=1, max_length=min(agents.NAME_MAX, contexts.NAME_MAX), json_schema_extra=NOT_BLANK_SCHEMA),
    NotBlank,
]


class WireModel(BaseModel):
    # strict: JSON `0` is not `false` and "5" is not 5, so what the schema says is what is accepted.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True)


def _drop_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class PatchModel(WireModel):
    """A PATCH body, the same rule on every resource: only the fields present change; `null` clears a field
    named in CLEARABLE and is a 422 for any other; `{}` changes nothing and answers the resource as it is.

    Fields that may not be null are typed `X | SkipJsonSchema[None]`, so the schema does not offer null.
    """

    # A field that is absent stays as it is, so no property shows a default.
    model_config = ConfigDict(json_schema_extra=_drop_defaults)
    CLEARABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _null_only_clears(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.CLEARABLE:
            raise ValueError("may not be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields present in the body, by name, as the domain stores them."""
        return {name: getattr(self, name) for name in self.model_fields_set}
