"""Conversation storage: presence (which agent is online in which conversation, until when) and the order of
the conversation's pending requests.

Presence is metadata only: an agent id, the caller's conversation id and a time; never content. It lives
in its own table, so it survives restarts, and rows past their time are dropped as new ones are written.
"""

from __future__ import annotations

from novaro_lite.storage.database import Database
from novaro_lite.storage.requests import PENDING_SQL


class ConversationStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def online_until(self, agent_id: str, conversation_id: str) -> float | None:
        """When the agent's current session in the conversation ends (None: it has had none)."""
        row = await self._db.one(
            "SELECT online_until_ms FROM presence WHERE agent_id = ? AND conversation_id = ?",
            (agent_id, conversation_id),
        )
        return None if row is None else row[0] / 1000

    async def set_online(self, agent_id: str, conversation_id: str, until: float, now: float) -> None:
        """Start (or extend) the agent's session in the conversation; forget its sessions that have ended."""
        # Its own transaction, not the group commit: an agent's presence rows are shared by every process, and
        # two batches that update shared rows in different orders could deadlock.
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM presence WHERE agent_id = ? AND online_until_ms < ?", (agent_id, int(now * 1000))
            )
            await tx.execute(
                "INSERT INTO presence (agent_id, conversation_id, online_until_ms) VALUES (?, ?, ?)"
                " ON CONFLICT (agent_id, conversation_id) DO UPDATE SET online_until_ms = excluded.online_until_ms",
                (agent_id, conversation_id, int(until * 1000)),
            )

    async def earlier_pending(self, agent_id: str, conversation_id: str, request_id: str) -> float | None:
        """The latest time an earlier pending request of the conversation arrives or is next tried; None if
        there is none. A reply there must not overtake an earlier one (issue 25)."""
        row = await self._db.one(
            "SELECT max(CASE WHEN status = 'scheduled' AND due_ms > coalesce(arrive_ms, 0) THEN due_ms"
            " ELSE coalesce(arrive_ms, due_ms) END) FROM message_requests"
            f" WHERE agent_id = ? AND conversation_id = ? AND status IN {PENDING_SQL}"
            " AND seq < (SELECT seq FROM message_requests WHERE id = ?)",
            (agent_id, conversation_id, request_id),
        )
        return None if row is None or row[0] is None else row[0] / 1000
