"""Paging: a list is ordered by a key column, filtered by a search text, counted, and continues from a cursor.

The key is each table's integer `seq` (ULID ids alone do not keep creation order within one millisecond);
tokens, which have no `seq`, use their id. A cursor is accepted only exactly as the server wrote it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import string
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from novaro_lite.errors import ValidationError
from novaro_lite.storage.database import Database, Row

MAX_SEQ = 2**63 - 1  # the largest integer both engines store (SQLite INTEGER, PostgreSQL bigint)
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # searches ignore ASCII case only
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int = 0  # how many items match, on every page


@dataclasses.dataclass(frozen=True)
class Listing:
    """What a list asks for: a page size, where to continue, a text the name (or other columns) must contain,
    and the order of creation (oldest first unless `newest`)."""

    limit: int
    cursor: str | None = None
    q: str | None = None
    newest: bool = False


def _encode_cursor(kind: str, position: int | str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def _bad_cursor() -> ValidationError:
    return ValidationError(
        "The cursor is not one this server handed out; pass nextCursor from the previous page.",
        errors=[{"loc": ["query", "cursor"], "msg": "not a cursor from a previous page"}],
    )


def decode_cursor(cursor: str | None, kind: str = "seq") -> int | str | None:
    """Turn a cursor from a previous page back into its position; None (the start) when there is none.

    Only the exact text this server hands out for this kind of list is accepted: a position past the integer
    range, leading zeros, other padding or any other text is a 422, never a query that fails.
    """
    if not cursor:
        return None
    with contextlib.suppress(ValueError, UnicodeError):
        found, _, text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii").partition(":")
        if found != kind:
            raise _bad_cursor()
        if kind != "seq" and text.isascii() and text.isprintable() and _encode_cursor(kind, text) == cursor:
            return text
        if kind == "seq" and text.isascii() and text.isdigit() and int(text) <= MAX_SEQ:
            if _encode_cursor(kind, int(text)) == cursor:
                return int(text)
    raise _bad_cursor()


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern with ESCAPE '\\': its own \\, % and _ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def select_page(
    database: Database,
    table: str,
    columns: str,
    where: str,
    params: tuple[Any, ...],
    listing: Listing,
    build: Callable[[Row], T],
    *,
    search: Sequence[str] = ("name",),
    key: str = "seq",
) -> Page[T]:
    """One page of `table`'s rows that meet `where` (SQL with `?`s for `params`) and
    contain `listing.q` in one of the `search` columns (ignoring ASCII case), with how many match in all.

    The count and the page are two reads of committed data: a row written between them may be in one only.
    """
    values = list(params)
    if listing.q:
        folded = [database.ascii_lower.format(column) for column in search]
        where += " AND (" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in folded) + ")"
        values += [f"%{escape_like(listing.q.translate(ASCII_LOWER))}%"] * len(search)
    total = (await database.all(f"SELECT count(*) FROM {table} WHERE {where}", tuple(values)))[0][0]
    position = decode_cursor(listing.cursor, key)
    if position is not None:
        where += f" AND {key} {'<' if listing.newest else '>'} ?"
        values.append(position)
    rows = await database.all(
        f"SELECT {key} AS page_key, {columns} FROM {table} WHERE {where}"
        f" ORDER BY {key} {'DESC' if listing.newest else 'ASC'} LIMIT ?",
        (*values, listing.limit + 1),
    )
    more = len(rows) > listing.limit
    rows = rows[: listing.limit]
    return Page([build(row) for row in rows], _encode_cursor(key, rows[-1]["page_key"]) if more else None, total)
