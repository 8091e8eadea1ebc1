"""The query every list endpoint takes (a page size, the cursor of the page before, a search text and an
order) and what every page answers besides its items."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from novaro_lite.api.schemas.wire import WireModel
from novaro_lite.storage.paging import Listing


class PageQuery(WireModel):
    model_config = ConfigDict(extra="ignore", strict=False)  # query values arrive as strings

    limit: int = Field(50, ge=1, le=200, description="Items per page.")
    cursor: str | None = Field(None, max_length=200, description="`nextCursor` from the previous page.")
    q: str | None = Field(
        None,
        max_length=200,
        description="Only items whose name contains this text, ignoring ASCII case (a webhook's URL or"
        " description; a request's reference).",
    )
    order: Literal["oldest", "newest"] = Field("oldest", description="Oldest or newest first, by creation.")

    def listing(self) -> Listing:
        return Listing(self.limit, self.cursor, self.q or None, self.order == "newest")


class PageOut(WireModel):
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same `q` and `order`) for the next page; null on the last page."
    )
    total: int = Field(description="How many items match `q` and the filters, on all pages together.")
