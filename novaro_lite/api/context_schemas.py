"""Wire models of /api/v1/contexts."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from novaro_lite.api.schemas import PatchModel, WireModel
from novaro_lite.domain import contexts as rules
from novaro_lite.domain.contexts import Context

Name = Annotated[str, Field(min_length=1, max_length=rules.NAME_MAX)]
Content = Annotated[str, Field(max_length=rules.CONTENT_MAX)]


class ContextCreate(WireModel):
    name: Name
    content: Content


class ContextPatch(PatchModel):
    """Only the fields present change; neither may be null."""

    name: Name | SkipJsonSchema[None] = None
    content: Content | SkipJsonSchema[None] = None


class ContextOut(WireModel):
    id: str
    name: str
    content: str
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, context: Context) -> ContextOut:
        return cls(
            id=context.id,
            name=context.name,
            content=context.content,
            created_at=context.created_at,
            updated_at=context.updated_at,
        )


class ContextPage(WireModel):
    data: list[ContextOut]
    next_cursor: str | None


class DeleteQuery(WireModel):
    model_config = ConfigDict(extra="ignore", strict=False)  # query values arrive as strings

    force: bool = Field(False, description="Detach the context from every agent that has it, then delete it.")
