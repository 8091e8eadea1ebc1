"""Paging: lists are ordered by each table's integer `seq` and continue from an opaque cursor.

ULID ids alone do not keep creation order within one millisecond, so the position is the row's `seq`.
A cursor is accepted only exactly as the server wrote it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
from collections.abc import Callable
from typing import Generic, TypeVar

from novaro_lite.errors import ValidationError
from novaro_lite.storage.database import Row

MAX_SEQ = 2**63 - 1  # the largest integer both engines store (SQLite INTEGER, PostgreSQL bigint)
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """Turn a cursor from a previous page back into its position; 0 (the start) when there is none.

    Only the exact text this server hands out is accepted: a position past the integer range, leading
    zeros, other padding or any other text is a 422, never a query that fails.
    """
    if not cursor:
        return 0
    with contextlib.suppress(ValueError, UnicodeError):
        kind, _, seq = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii").partition(":")
        if (
            kind == "seq"
            and seq.isascii()
            and seq.isdigit()
            and int(seq) <= MAX_SEQ
            and _encode_cursor(int(seq)) == cursor
        ):
            return int(seq)
    raise ValidationError(
        "The cursor is not one this server handed out; pass nextCursor from the previous page.",
        errors=[{"loc": ["query", "cursor"], "msg": "not a cursor from a previous page"}],
    )


def page(rows: list[Row], limit: int, build: Callable[[Row], T]) -> Page[T]:
    """Make a page from up to limit + 1 rows selected with their `seq`: the extra row says there is more."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([build(row) for row in rows], _encode_cursor(rows[-1]["seq"]) if more else None)
