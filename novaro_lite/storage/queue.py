"""The delivery queue: the dispatcher's side of the message_requests table.

A pending row's `due_ms` is when it next needs the dispatcher: its due time while scheduled, its lease
expiry while claimed. So one partial index answers both "what is due" and "which leases ran out", and a
crashed process's claims come back by themselves. Claims are one UPDATE … RETURNING, so two processes
can never take the same row.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import ENDED, Attempt, MessageRequest
from novaro_lite.storage.database import Database
from novaro_lite.storage.requests import (
    COLUMNS,
    IDEMPOTENCY_WINDOW,
    PENDING_SQL,
    PURGE_SQL,
    dump_messages,
    row_to_request,
)

Outcome = Literal["delivered", "retry", "failed"]


class DeliveryQueue:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(
        self,
        *,
        now: float,
        lease_seconds: float,
        limit: int,
        per_webhook: int,
        in_flight: Mapping[str, int],
        working: Collection[str],
        owner: str,
    ) -> builtins.list[MessageRequest]:
        """Lease up to `limit` due requests, leaving each webhook at most `per_webhook` in flight.

        `in_flight` counts this process's deliveries per webhook id, and `working` names the requests it is
        still delivering: if one's lease ran out while it worked, it is not taken a second time.
        """
        async with self._db.transaction() as db:
            rows = await db.execute_fetchall(
                f"""
                UPDATE message_requests
                SET status = CASE WHEN reply IS NULL THEN 'generating' ELSE 'delivering' END,
                    due_ms = ?, lease_owner = ?, updated_at = ?
                WHERE seq IN (
                    SELECT seq FROM (
                        SELECT seq, webhook_id, row_number() OVER (PARTITION BY webhook_id ORDER BY due_ms) AS nth
                        FROM (SELECT seq, webhook_id, due_ms FROM message_requests
                              WHERE status IN {PENDING_SQL} AND due_ms <= ?
                                AND (lease_owner IS NOT ? OR id NOT IN (SELECT value FROM json_each(?)))
                                AND webhook_id NOT IN (SELECT key FROM json_each(?) WHERE value >= ?)
                              ORDER BY due_ms LIMIT ?)
                    ) AS due
                    WHERE nth <= ? - coalesce((SELECT value FROM json_each(?) WHERE key = due.webhook_id), 0)
                    LIMIT ?
                )
                RETURNING seq, {COLUMNS}
                """,
                (
                    int((now + lease_seconds) * 1000), owner, int(now), int(now * 1000), owner,
                    json.dumps(list(working)), json.dumps(dict(in_flight)), per_webhook,  # busy webhooks are skipped
                    limit * 4, per_webhook, json.dumps(dict(in_flight)), limit,
                ),
            )  # fmt: skip
        return [row_to_request(row) for row in rows]

    async def store_reply(self, request_id: str, owner: str, reply: Sequence[ChatMessage], lease_until: float) -> bool:
        """Keep the generated reply so every attempt sends the same body; False if the lease was lost."""
        (updated,) = await self._db.write(
            (
                "UPDATE message_requests SET reply = ?, status = 'delivering', due_ms = ?, updated_at = ?"
                " WHERE id = ? AND lease_owner = ? AND status = 'generating'",
                (dump_messages(reply), int(lease_until * 1000), self._db.now(), request_id, owner),
            )
        )
        return updated == 1

    async def finish_attempt(
        self, request_id: str, owner: str, attempt: Attempt, outcome: Outcome, retry_at: float | None = None
    ) -> None:
        """Log an attempt and move the request on: delivered or failed (content purged), or scheduled again."""
        common = "attempts = attempts + 1, last_error = ?, last_status_code = ?, updated_at = ?"
        params: tuple[Any, ...] = (attempt.error, attempt.status_code, attempt.attempted_at)
        if outcome == "retry":
            assert retry_at is not None
            change = f"status = 'scheduled', due_ms = ?, scheduled_for = ?, lease_owner = NULL, {common}"
            params = (int(retry_at * 1000), int(retry_at), *params)
        elif outcome == "delivered":
            change = f"status = 'delivered', delivered_at = ?, {PURGE_SQL}, {common}"
            params = (attempt.attempted_at, *params)
        else:
            change = f"status = 'failed', {PURGE_SQL}, {common}"
        await self._db.write(
            (
                "INSERT INTO delivery_attempts (request_id, attempted_at, status_code, duration_ms, error,"
                " response_body) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    request_id,
                    attempt.attempted_at,
                    attempt.status_code,
                    attempt.duration_ms,
                    attempt.error,
                    attempt.response_body,
                ),
            ),  # fmt: skip
            (
                f"UPDATE message_requests SET {change} WHERE id = ? AND lease_owner = ? AND status IN {PENDING_SQL}",
                (*params, request_id, owner),
            ),
        )
        if outcome != "retry":
            self._db.content_purged()

    async def release(self, request_ids: Sequence[str], owner: str, now: float) -> None:
        """Give claimed requests back to the queue, due now (on shutdown).

        Through the group commit, so it lands after any bookkeeping of those requests already queued there.
        """
        if not request_ids:
            return
        await self._db.write(
            (
                "UPDATE message_requests SET status = 'scheduled', due_ms = ?, lease_owner = NULL"
                f" WHERE lease_owner = ? AND status IN {PENDING_SQL} AND id IN ({', '.join('?' * len(request_ids))})",
                (int(now * 1000), owner, *request_ids),
            )
        )

    def next_due(self) -> float | None:
        """When the dispatcher is next needed: the earliest due time or lease expiry of a pending request."""
        row = self._db.one(f"SELECT min(due_ms) FROM message_requests WHERE status IN {PENDING_SQL}", ())
        return None if row is None or row[0] is None else row[0] / 1000

    def pending_stats(self, now: float) -> tuple[dict[str, int], float]:
        """Pending requests by status, and how long the oldest one already due has waited (0 if none)."""
        rows = self._db.read(
            f"SELECT status, count(*), min(scheduled_for) FROM message_requests WHERE status IN {PENDING_SQL}"
            " GROUP BY status",
            (),
        )
        counts = {row[0]: int(row[1]) for row in rows}
        oldest = min((float(row[2]) for row in rows), default=now)
        return counts, max(0.0, now - oldest)

    async def purge_ended(self, before: int) -> int:
        """Delete the metadata (and attempt log) of requests that ended before `before`.

        Also forget idempotency keys and body hashes once their 24-hour window has passed.
        """
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE message_requests SET idempotency_key = NULL, request_hash = NULL"
                " WHERE request_hash IS NOT NULL AND created_at < ?",
                (self._db.now() - IDEMPOTENCY_WINDOW,),
            )
            await db.execute(
                "DELETE FROM delivery_attempts WHERE request_id IN (SELECT id FROM message_requests"
                f" WHERE status IN {tuple(ENDED)} AND updated_at < ?)",
                (before,),
            )
            cursor = await db.execute(
                f"DELETE FROM message_requests WHERE status IN {tuple(ENDED)} AND updated_at < ?", (before,)
            )
        return cursor.rowcount
