"""Conditional GETs: whether the client's copy (If-None-Match) is still the current representation."""

from __future__ import annotations

from starlette.requests import Request


def unchanged(request: Request, etag: str) -> bool:
    """Whether If-None-Match names `etag` (compared weakly: W/ aside) or is `*`, so a 304 answers (RFC 9110
    §13.1.2)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return etag.removeprefix("W/") in (tag.strip().removeprefix("W/") for tag in header.split(","))
