"""Message request storage: the durable queue of async replies and their attempt log.

A pending row's `due_ms` is when it next needs the dispatcher: its due time while scheduled, its lease
expiry while claimed. So one partial index answers both "what is due" and "which leases ran out", and a
crashed process's claims come back by themselves. Claims are one UPDATE … RETURNING, so two processes
can never take the same row.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal

from novaro_lite.domain.ids import new_id
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import ENDED, PENDING, Attempt, MessageRequest, Status
from novaro_lite.errors import ConflictError, NotFoundError
from novaro_lite.storage.database import Database, Page, decode_cursor, page

IDEMPOTENCY_WINDOW = 24 * 3600
_COLUMNS = (
    "id, account, agent_id, webhook_id, reference, status, scheduled_for, attempts, last_error, "
    "last_status_code, delivered_at, created_at, updated_at, messages, context_ids, reply"
)
_SELECT = f"SELECT seq, {_COLUMNS} FROM message_requests"
_PENDING = "('scheduled', 'generating', 'delivering')"
_PURGE = "messages = NULL, reply = NULL, context_ids = NULL, lease_owner = NULL"
Outcome = Literal["delivered", "retry", "failed"]
_INSERT = (
    "INSERT INTO message_requests (id, account, agent_id, webhook_id, reference, status, due_ms, scheduled_for,"
    " idempotency_key, request_hash, accepted, messages, context_ids, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _dump(messages: Sequence[ChatMessage]) -> str:
    return json.dumps([[m.role, m.content, m.created_at] for m in messages], ensure_ascii=False)


def _load(raw: str | None) -> tuple[ChatMessage, ...] | None:
    return None if raw is None else tuple(ChatMessage(role, content, at) for role, content, at in json.loads(raw))


def _request(row: sqlite3.Row) -> MessageRequest:
    return MessageRequest(
        id=row["id"],
        account=row["account"],
        agent_id=row["agent_id"],
        webhook_id=row["webhook_id"],
        reference=row["reference"],
        status=row["status"],
        scheduled_for=row["scheduled_for"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        last_status_code=row["last_status_code"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        messages=_load(row["messages"]),
        context_ids=tuple(json.loads(row["context_ids"] or "[]")),
        reply=_load(row["reply"]),
    )


def _not_found(request_id: str) -> NotFoundError:
    return NotFoundError(f"There is no message request with id {request_id!r}.")


class RequestStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        account: str,
        *,
        agent_id: str,
        webhook_id: str,
        reference: str,
        messages: Sequence[ChatMessage],
        context_ids: Sequence[str],
        due: float,
        idempotency_key: str | None = None,
        body_hash: str | None = None,
        accepted: Callable[[MessageRequest], str] = lambda request: "",
    ) -> str:
        """Store a request and return the response that accepts it (`accepted` renders it), committed.

        With an idempotency key seen in the last 24 hours for the same body, store nothing and return the
        response given the first time; for a different body, raise ConflictError.
        """
        now = self._db.now()
        request = MessageRequest(
            id=new_id("req", now), account=account, agent_id=agent_id, webhook_id=webhook_id, reference=reference,
            status="scheduled", scheduled_for=int(due), attempts=0, last_error=None, last_status_code=None,
            delivered_at=None, created_at=now, updated_at=now, messages=tuple(messages),
            context_ids=tuple(context_ids), reply=None,
        )  # fmt: skip
        response = accepted(request)
        row = (
            request.id, account, agent_id, webhook_id, reference, int(due * 1000), int(due), idempotency_key,
            body_hash, response, _dump(messages), json.dumps(list(context_ids)), now, now,
        )  # fmt: skip
        if idempotency_key is None:
            await self._db.insert(_INSERT, row)
            return response
        async with self._db.transaction() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT seq, request_hash, accepted, created_at FROM message_requests"
                    " WHERE account = ? AND idempotency_key = ?",
                    (account, idempotency_key),
                )
            )
            if rows and rows[0]["created_at"] > now - IDEMPOTENCY_WINDOW:
                if rows[0]["request_hash"] != body_hash:
                    raise ConflictError(
                        f"The Idempotency-Key {idempotency_key!r} was used in the last 24 hours with a different"
                        " request body; use a new key for a new request."
                    )
                return str(rows[0]["accepted"])
            if rows:
                await db.execute("UPDATE message_requests SET idempotency_key = NULL WHERE seq = ?", (rows[0]["seq"],))
            await db.execute(_INSERT, row)
        return response

    def get(self, account: str, request_id: str) -> MessageRequest:
        row = self._db.one(f"{_SELECT} WHERE account = ? AND id = ?", (account, request_id))
        if row is None:
            raise _not_found(request_id)
        return _request(row)

    async def list(
        self,
        account: str,
        *,
        limit: int,
        cursor: str | None = None,
        status: Status | None = None,
        agent_id: str | None = None,
        reference: str | None = None,
    ) -> Page[MessageRequest]:
        where, params = ["account = ?", "seq > ?"], [account, decode_cursor(cursor)]
        for column, value in (("status", status), ("agent_id", agent_id), ("reference", reference)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = await self._db.all(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", (*params, limit + 1))
        return page(rows, limit, _request)

    async def cancel(self, account: str, request_id: str) -> MessageRequest:
        """Cancel a request that is waiting; one being generated or delivered right now cannot be stopped."""
        self.get(account, request_id)
        (canceled,) = await self._db.write(
            (
                f"UPDATE message_requests SET status = 'canceled', {_PURGE}, updated_at = ?"
                " WHERE id = ? AND status = 'scheduled'",
                (self._db.now(), request_id),
            )
        )
        found = self.get(account, request_id)
        if not canceled:
            raise ConflictError(
                f"The message request {request_id!r} is {found.status}"
                + ("; its reply is being sent right now." if found.status in PENDING else "; it cannot be canceled.")
            )
        return found

    async def redeliver(self, account: str, request_id: str, now: float) -> MessageRequest:
        """Make a request waiting for its next attempt due now."""
        found = self.get(account, request_id)
        if found.status != "scheduled":
            raise ConflictError(
                f"The message request {request_id!r} is {found.status}; only a scheduled request can be sent now"
                " (an ended request's content was purged, so there is nothing left to resend)."
            )
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE message_requests SET due_ms = ?, scheduled_for = ?, updated_at = ?"
                " WHERE id = ? AND status = 'scheduled'",
                (int(now * 1000), int(now), self._db.now(), request_id),
            )
        return self.get(account, request_id)

    async def attempts(self, account: str, request_id: str) -> builtins.list[Attempt]:
        self.get(account, request_id)
        rows = await self._db.all(
            "SELECT attempted_at, status_code, duration_ms, error, response_body FROM delivery_attempts"
            " WHERE request_id = ? ORDER BY seq",
            (request_id,),
        )
        return [Attempt(*row) for row in rows]

    # the dispatcher's side

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
                              WHERE status IN {_PENDING} AND due_ms <= ?
                                AND (lease_owner IS NOT ? OR id NOT IN (SELECT value FROM json_each(?)))
                              ORDER BY due_ms LIMIT ?)
                    ) AS due
                    WHERE nth <= ? - coalesce((SELECT value FROM json_each(?) WHERE key = due.webhook_id), 0)
                    LIMIT ?
                )
                RETURNING seq, {_COLUMNS}
                """,
                (
                    int((now + lease_seconds) * 1000), owner, int(now), int(now * 1000), owner,
                    json.dumps(list(working)), limit * 4, per_webhook, json.dumps(dict(in_flight)), limit,
                ),
            )  # fmt: skip
        return [_request(row) for row in rows]

    async def store_reply(self, request_id: str, owner: str, reply: Sequence[ChatMessage], lease_until: float) -> bool:
        """Keep the generated reply so every attempt sends the same body; False if the lease was lost."""
        (updated,) = await self._db.write(
            (
                "UPDATE message_requests SET reply = ?, status = 'delivering', due_ms = ?, updated_at = ?"
                " WHERE id = ? AND lease_owner = ? AND status = 'generating'",
                (_dump(reply), int(lease_until * 1000), self._db.now(), request_id, owner),
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
            change = f"status = 'delivered', delivered_at = ?, {_PURGE}, {common}"
            params = (attempt.attempted_at, *params)
        else:
            change = f"status = 'failed', {_PURGE}, {common}"
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
                f"UPDATE message_requests SET {change} WHERE id = ? AND lease_owner = ? AND status IN {_PENDING}",
                (*params, request_id, owner),
            ),
        )

    async def release(self, request_ids: Sequence[str], owner: str, now: float) -> None:
        """Give claimed requests back to the queue, due now (on shutdown)."""
        if not request_ids:
            return
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE message_requests SET status = 'scheduled', due_ms = ?, lease_owner = NULL"
                f" WHERE lease_owner = ? AND status IN {_PENDING} AND id IN ({', '.join('?' * len(request_ids))})",
                (int(now * 1000), owner, *request_ids),
            )

    def next_due(self) -> float | None:
        """When the dispatcher is next needed: the earliest due time or lease expiry of a pending request."""
        row = self._db.one(f"SELECT min(due_ms) FROM message_requests WHERE status IN {_PENDING}", ())
        return None if row is None or row[0] is None else row[0] / 1000

    async def purge_ended(self, before: int) -> int:
        """Delete the metadata (and attempt log) of requests that ended before `before`."""
        async with self._db.transaction() as db:
            await db.execute(
                "DELETE FROM delivery_attempts WHERE request_id IN (SELECT id FROM message_requests"
                f" WHERE status IN {tuple(ENDED)} AND updated_at < ?)",
                (before,),
            )
            cursor = await db.execute(
                f"DELETE FROM message_requests WHERE status IN {tuple(ENDED)} AND updated_at < ?", (before,)
            )
        return cursor.rowcount

    def count_pending(self) -> int:
        row = self._db.one(f"SELECT count(*) FROM message_requests WHERE status IN {_PENDING}", ())
        return int(row[0]) if row else 0
