"""Conversation storage: presence (which agent is online in which conversation, until when) and typed replies.

Presence is metadata only: an agent id, the caller's conversation id and a time; never content. It lives
in its own table, so it survives restarts, and rows past their time are dropped as new ones are written.
"""

from __future__ import annotations

from collections.abc import Sequence

from novaro_lite.domain.messages import ChatMessage
from novaro_lite.storage.database import Database
from novaro_lite.storage.requests import dump_messages


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

    async def store_typed_reply(
        self, request_id: str, owner: str, reply: Sequence[ChatMessage], deliver_at: float
    ) -> bool:
        """Keep a generated reply and wait while it is typed: the request is due again at `deliver_at`.

        It goes back to `scheduled` with its reply kept, so the next claim delivers it (and a newer message
        in the conversation, finding a reply already written, waits for it instead of superseding it). It
        keeps `owner`, so this process takes it again only once the task that typed it has finished.
        False if the lease was lost (the request was canceled or taken over meanwhile).
        """
        (updated,) = await self._db.write(
            (
                "UPDATE message_requests SET reply = ?, status = 'scheduled', due_ms = ?, scheduled_for = ?,"
                " updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'generating'",
                (
                    dump_messages(reply),
                    int(deliver_at * 1000),
                    int(deliver_at),
                    self._db.now(),
                    request_id,
                    owner,
                ),
            )
        )
        return updated == 1
