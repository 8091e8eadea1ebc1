"""The RFC 9457 problem body every error of the API has; novaro_lite.api.web.problems builds it."""

from __future__ import annotations

from pydantic import Field

from novaro_lite.api.schemas.wire import WireModel


class FieldError(WireModel):
    loc: list[str | int] = Field(description="Where the bad value is: `body`, `query` or `path`, then the field path.")
    msg: str


class AgentRef(WireModel):
    id: str
    name: str


class Problem(WireModel):
    """An RFC 9457 problem: every error the API returns has this shape."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    agents: list[AgentRef] | None = Field(
        None, description="Deleting a context agents use (409): those agents, so they can be named."
    )
