"""Context storage: named background texts by account, and which agents they are attached to."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any

from novaro_lite.domain.contexts import Context, Keywords
from novaro_lite.domain.ids import new_id
from novaro_lite.errors import ConflictError, NotFoundError
from novaro_lite.storage.database import Database, Row
from novaro_lite.storage.paging import Listing, Page, select_page

BASE = ("id", "account", "name", "content", "created_at", "updated_at")
COLUMNS = (*BASE, "keys", "case_sensitive", "secondary_keys", "selective", "scan_depth")
_SELECT = f"SELECT seq, {', '.join(COLUMNS)} FROM contexts"
IDS_PER_QUERY = 500  # bound parameters per query: SQLite before 3.32 (Ubuntu 20.04's) takes at most 999
INSERT = f"INSERT INTO contexts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def context_row(context: Context) -> tuple[Any, ...]:
    words = context.keywords
    return (
        *(getattr(context, name) for name in BASE),
        json.dumps(words.keys, ensure_ascii=False),
        words.case_sensitive,
        json.dumps(words.secondary_keys, ensure_ascii=False),
        words.selective,
        words.scan_depth,
    )


def _context(row: Row) -> Context:
    keywords = Keywords(
        tuple(json.loads(row["keys"])),
        bool(row["case_sensitive"]),
        tuple(json.loads(row["secondary_keys"])),
        bool(row["selective"]),
        row["scan_depth"],
    )
    return Context(**{name: row[name] for name in BASE}, keywords=keywords)


def _not_found(context_id: str) -> NotFoundError:
    return NotFoundError(f"There is no context with id {context_id!r}.")


class ContextStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(self, account: str, name: str, content: str, keywords: Keywords | None = None) -> Context:
        now = self._db.now()
        context = Context(new_id("ctx", now), account, name, content, now, now, keywords or Keywords())
        async with self._db.transaction() as tx:
            await tx.execute(INSERT, context_row(context))
        return context

    async def get(self, account: str, context_id: str) -> Context:
        row = await self._db.one(f"{_SELECT} WHERE account = ? AND id = ?", (account, context_id))
        if row is None:
            raise _not_found(context_id)
        return _context(row)

    async def get_many(self, account: str, context_ids: Sequence[str]) -> list[Context]:
        """The account's contexts among `context_ids`, in that order; unknown ids are left out."""
        found: dict[str, Context] = {}
        for start in range(0, len(context_ids), IDS_PER_QUERY):
            ids = context_ids[start : start + IDS_PER_QUERY]
            rows = await self._db.read(
                f"{_SELECT} WHERE account = ? AND id IN ({', '.join('?' * len(ids))})", (account, *ids)
            )
            found |= {row["id"]: _context(row) for row in rows}
        return [found[context_id] for context_id in context_ids if context_id in found]

    async def unknown(self, account: str, context_ids: Sequence[str]) -> list[str]:
        """The ids among `context_ids` that name no context of this account."""
        known = {context.id for context in await self.get_many(account, context_ids)}
        return [context_id for context_id in context_ids if context_id not in known]

    async def list(self, account: str, listing: Listing) -> Page[Context]:
        """A page of the account's contexts whose name contains `listing.q`, in creation order."""
        return await select_page(self._db, "contexts", ", ".join(COLUMNS), "account = ?", (account,), listing, _context)

    async def update(self, account: str, context_id: str, change: Callable[[Context], dict[str, Any]]) -> Context:
        """Apply the changes `change` makes of the context as it is now (read under the write lock, so two
        concurrent updates of different fields both hold); no changes write nothing."""
        async with self._db.transaction() as tx:
            await tx.lock(f"context:{context_id}")
            rows = await tx.fetch(f"{_SELECT} WHERE account = ? AND id = ?", (account, context_id))
            if not rows:
                raise _not_found(context_id)
            current = _context(rows[0])
            changes = change(current)
            if not changes:
                return current
            changed = dataclasses.replace(current, **changes, updated_at=self._db.now())
            await tx.execute(
                f"UPDATE contexts SET {', '.join(f'{column} = ?' for column in COLUMNS)} WHERE id = ?",
                (*context_row(changed), changed.id),
            )
        return changed

    async def delete(self, account: str, context_id: str, *, force: bool = False) -> None:
        """Delete a context; if agents still have it attached, refuse (409, naming them) unless `force`
        detaches it."""
        context = await self.get(account, context_id)
        async with self._db.transaction() as tx:
            rows = await tx.fetch(
                "SELECT agents.id, agents.name FROM agent_contexts JOIN agents ON agents.id = agent_contexts.agent_id"
                " WHERE agent_contexts.context_id = ? ORDER BY agents.seq",
                (context_id,),
            )
            if rows and not force:
                names = ", ".join(f"{row[1]} ({row[0]})" for row in rows)
                raise ConflictError(
                    f"The context {context.name!r} is attached to {len(rows)} agent{'s' if len(rows) > 1 else ''}:"
                    f" {names}. Detach it from them first, or force the delete (?force=true; the CLI's --force)"
                    " to detach it from every agent.",
                    extensions={"agents": [{"id": row[0], "name": row[1]} for row in rows]},
                )
            await tx.execute("DELETE FROM agent_contexts WHERE context_id = ?", (context_id,))
            await tx.execute("DELETE FROM contexts WHERE id = ?", (context_id,))
