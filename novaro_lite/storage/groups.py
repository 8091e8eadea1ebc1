"""Group storage: groups of an account's agents, listed in creation order, with their members in order.

Members reference agents with ON DELETE CASCADE: deleting an agent removes it from its groups.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from novaro_lite.domain.groups import Group, GroupFields, Member
from novaro_lite.domain.ids import new_id
from novaro_lite.errors import ConflictError, NotFoundError
from novaro_lite.storage.database import Database, Row, Transaction
from novaro_lite.storage.paging import Listing, Page, select_page

_COLUMNS = "id, account, name, strategy, max_agent_turns, created_at, updated_at"
_SELECT = f"SELECT seq, {_COLUMNS} FROM chat_groups"
_MEMBERS = (
    "SELECT group_id, agent_id, talkativeness FROM chat_group_members WHERE group_id IN ({})"
    " ORDER BY group_id, position"
)
Read = Callable[[str, tuple[Any, ...]], Awaitable[list[Row]]]


def _not_found(group_id: str) -> NotFoundError:
    return NotFoundError(f"There is no group with id {group_id!r}.")


class GroupStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def _groups(self, rows: list[Row], read: Read | None = None) -> list[Group]:
        if not rows:
            return []
        ids = tuple(row["id"] for row in rows)
        members: dict[str, list[Member]] = {}
        for found in await (read or self._db.read)(_MEMBERS.format(", ".join("?" * len(ids))), ids):
            members.setdefault(found[0], []).append(Member(found[1], found[2]))
        return [
            Group(
                id=row["id"],
                account=row["account"],
                name=row["name"],
                members=tuple(members.get(row["id"], ())),
                strategy=row["strategy"],
                max_agent_turns=row["max_agent_turns"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
            for row in rows
        ]

    async def unknown_agents(self, account: str, agent_ids: Sequence[str]) -> list[str]:
        """The ids in `agent_ids` that are not agents of the account, in the order given."""
        if not agent_ids:
            return []
        rows = await self._db.read(
            f"SELECT id FROM agents WHERE account = ? AND id IN ({', '.join('?' * len(agent_ids))})",
            (account, *agent_ids),
        )
        known = {row[0] for row in rows}
        return [agent_id for agent_id in agent_ids if agent_id not in known]

    @staticmethod
    async def _seat(tx: Transaction, group: Group) -> None:
        """Write the group's members, checking under the transaction that each is still the account's agent."""
        ids = tuple(member.agent_id for member in group.members)
        rows = await tx.fetch(
            f"SELECT id FROM agents WHERE account = ? AND id IN ({', '.join('?' * len(ids))})" + tx.row_lock,
            (group.account, *ids),
        )
        missing = set(ids) - {row[0] for row in rows}
        if missing:
            raise ConflictError(f"The agent {sorted(missing)[0]!r} was deleted while the group was being saved.")
        await tx.execute("DELETE FROM chat_group_members WHERE group_id = ?", (group.id,))
        await tx.executemany(
            "INSERT INTO chat_group_members (group_id, agent_id, position, talkativeness) VALUES (?, ?, ?, ?)",
            [(group.id, m.agent_id, position, m.talkativeness) for position, m in enumerate(group.members)],
        )

    async def create(self, account: str, fields: GroupFields) -> Group:
        now = self._db.now()
        group = Group(
            **{field.name: getattr(fields, field.name) for field in dataclasses.fields(GroupFields)},
            id=new_id("grp", now),
            account=account,
            created_at=now,
            updated_at=now,
        )
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO chat_groups (id, account, name, strategy, max_agent_turns, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (group.id, account, group.name, group.strategy, group.max_agent_turns, now, now),
            )
            await self._seat(tx, group)
        return group

    async def get(self, account: str, group_id: str) -> Group:
        row = await self._db.one(f"{_SELECT} WHERE account = ? AND id = ?", (account, group_id))
        if row is None:
            raise _not_found(group_id)
        return (await self._groups([row]))[0]

    async def list(self, account: str, listing: Listing) -> Page[Group]:
        """A page of the account's groups whose name contains `listing.q`, in creation order."""
        where = "account = ?"
        found = await select_page(self._db, "chat_groups", _COLUMNS, where, (account,), listing, lambda row: row)
        return Page(await self._groups(found.items), found.next_cursor, found.total)

    async def update(self, account: str, group_id: str, changes: dict[str, Any]) -> Group:
        """Apply `changes` (GroupFields names to new values); `members` replaces the whole list."""
        if not changes:
            return await self.get(account, group_id)
        async with self._db.transaction() as tx:
            await tx.lock(f"group:{group_id}")  # the group as it is now: a concurrent PATCH's fields are kept
            found = await self._groups(
                await tx.fetch(f"{_SELECT} WHERE account = ? AND id = ?", (account, group_id)), tx.fetch
            )
            if not found:
                raise _not_found(group_id)
            group = dataclasses.replace(found[0], **changes, updated_at=self._db.now())
            await tx.execute(
                "UPDATE chat_groups SET name = ?, strategy = ?, max_agent_turns = ?, updated_at = ? WHERE id = ?",
                (group.name, group.strategy, group.max_agent_turns, group.updated_at, group.id),
            )
            if "members" in changes:
                await self._seat(tx, group)
        return group

    async def delete(self, account: str, group_id: str) -> None:
        async with self._db.transaction() as tx:
            deleted = await tx.execute("DELETE FROM chat_groups WHERE account = ? AND id = ?", (account, group_id))
        if not deleted:
            raise _not_found(group_id)
