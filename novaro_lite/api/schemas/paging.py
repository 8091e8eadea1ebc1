"""The query every list endpoint takes: a page size and the cursor of the page before."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from novaro_lite.api.schemas.wire import WireModel


class PageQuery(WireModel):
    model_config = ConfigDict(extra="ignore", strict=False)  # query values arrive as strings

    limit: int = Field(50, ge=1, le=200, description="Items per page.")
    cursor: str | None = Field(None, max_length=100, description="`nextCursor` from the previous page.")
