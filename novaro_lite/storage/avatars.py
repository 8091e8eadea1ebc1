"""Agents' pictures: one per agent at most, read and written by account, deleted with the agent (a cascade)."""

from __future__ import annotations

from novaro_lite.domain.avatars import Avatar
from novaro_lite.errors import NotFoundError
from novaro_lite.storage.database import Database, Transaction

UPSERT = (
    "INSERT INTO agent_avatars (agent_id, media_type, image, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (agent_id) DO UPDATE SET media_type = excluded.media_type, image = excluded.image,"
    " updated_at = excluded.updated_at"
)
_OWNED = "SELECT 1 FROM agents WHERE account = ? AND id = ?"


async def put_avatar(tx: Transaction, agent_id: str, avatar: Avatar, now: int) -> None:
    await tx.execute(UPSERT, (agent_id, avatar.media_type, avatar.data, now))


def _not_found(agent_id: str) -> NotFoundError:
    return NotFoundError(f"There is no agent with id {agent_id!r}.")


class AvatarStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, account: str, agent_id: str) -> Avatar | None:
        """The agent's picture, or None when it has none; NotFoundError when the account has no such agent."""
        row = await self._db.one(
            "SELECT a.id, p.media_type, p.image FROM agents AS a"
            " LEFT JOIN agent_avatars AS p ON p.agent_id = a.id WHERE a.account = ? AND a.id = ?",
            (account, agent_id),
        )
        if row is None:
            raise _not_found(agent_id)
        return None if row["image"] is None else Avatar(row["media_type"], bytes(row["image"]))

    async def put(self, account: str, agent_id: str, avatar: Avatar) -> None:
        """Give the agent this picture, replacing the one it had."""
        async with self._db.transaction() as tx:
            if not await tx.fetch(_OWNED, (account, agent_id)):
                raise _not_found(agent_id)
            await put_avatar(tx, agent_id, avatar, self._db.now())

    async def delete(self, account: str, agent_id: str) -> bool:
        """Take the agent's picture away; return whether it had one."""
        async with self._db.transaction() as tx:
            if not await tx.fetch(_OWNED, (account, agent_id)):
                raise _not_found(agent_id)
            return await tx.execute("DELETE FROM agent_avatars WHERE agent_id = ?", (agent_id,)) > 0
