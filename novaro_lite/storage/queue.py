"""The delivery queue: the dispatcher's side of the message_requests table.

A pending row's `due_ms` is when it next needs the dispatcher: its due time while scheduled, its lease
expiry while claimed. So one partial index answers both "what is due" and "which leases ran out", and a
crashed process's claims come back by themselves. Each engine claims in one atomic statement, so two
processes never take the same row (storage/sqlite/claims.py, storage/postgres/claims.py). A `paused` row
(its webhook is disabled) is in neither index: storage/webhooks.py parks and resumes those.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import ENDED, PAUSED, Attempt, MessageRequest
from novaro_lite.storage.database import Claim, Database, Statement
from novaro_lite.storage.requests import (
    IDEMPOTENCY_WINDOW,
    IN_FLIGHT_SQL,
    INSERT,
    PENDING_SQL,
    PURGE_SQL,
    dump_messages,
    insert_row,
    row_to_request,
)

# delivered / failed end the request (content purged); retry schedules it again; paused parks it with its
# content until its webhook is enabled again (storage/webhooks.py moves it back).
Outcome = Literal["delivered", "retry", "failed", "paused"]
# Runs every housekeeping under the write lock: indexed (message_requests_idempotency_expiry), not a scan.
FORGET_KEYS_SQL = (
    "UPDATE message_requests SET idempotency_key = NULL, request_hash = NULL"
    " WHERE request_hash IS NOT NULL AND created_at < ?"
)
# A check-in the user made moot while its POST was under way (storage/requests.py, end_check_ins) ends when
# that POST failed, rather than going out later.
END_MOOT_SQL = (
    f"UPDATE message_requests SET status = 'canceled', {PURGE_SQL} WHERE id = ? AND status = 'scheduled'"
    " AND canceled_reason IS NOT NULL"
)
# A group's next turn, queued when the reply it answers is delivered: the request and its plan.
FollowUp = tuple[MessageRequest, Plan]
# Which budget an attempt used: the webhook's attempts, the provider's own, or neither (a pause).
Counter = Literal["attempts", "generation_failures"]
# When the agent read a reply's messages, kept with the reply it wrote from them (store_reply, or hold with the
# reply): the claim that read them set updated_at, and nothing writes the row between that claim and the
# reply's keeping. So the read costs no write of its own, which every delivery would pay (docs/design.md,
# Arrival). The first writing's read stays; a check-in reads nothing.
READ_SQL = "read_at = CASE WHEN kind = 'reply' THEN coalesce(read_at, updated_at) END"


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
        """Lease up to `limit` due requests, oldest due first, leaving each webhook at most `per_webhook` in flight
        across every process on the database.

        `in_flight` counts this process's deliveries per webhook id, and `working` names the requests it is
        still delivering: if one's lease ran out while it worked, it is not taken a second time (it may cost
        its webhook a slot in this one claim). How each engine claims: storage/sqlite/claims.py,
        storage/postgres/claims.py.
        """
        claim = Claim(
            now_ms=int(now * 1000),
            lease_until_ms=int((now + lease_seconds) * 1000),
            owner=owner,
            limit=limit,
            per_webhook=per_webhook,
            in_flight=in_flight,
            working=working,
        )
        rows = await self._db.claim(claim)
        return sorted((row_to_request(row) for row in rows), key=lambda request: request.scheduled_for)

    async def store_reply(self, request_id: str, owner: str, reply: Sequence[ChatMessage], lease_until: float) -> bool:
        """Keep the generated reply so every attempt sends the same body; False if the lease was lost."""
        (updated,) = await self._db.write(
            (
                f"UPDATE message_requests SET reply = ?, {READ_SQL}, status = 'delivering', due_ms = ?,"
                " updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'generating'",
                (dump_messages(reply), int(lease_until * 1000), self._db.now(), request_id, owner),
            )
        )
        return updated == 1

    async def hold(
        self,
        request_id: str,
        owner: str,
        *,
        due: float,
        arrive_at: float,
        typing_at: float | None = None,
        reply: Sequence[ChatMessage] | None = None,
        speaker: str | None = None,
    ) -> bool:
        """Give a claimed request back to wait until `due`, its reply (if given) kept, its times as given.

        How a humanlike reply waits between reading, typing and arriving (delivery/attempt.py); with `speaker`,
        a group turn passes to that member, who starts afresh (its own read, its own budget for the model's
        failures). No attempt is logged. False if the lease was lost (the request was canceled or taken over
        meanwhile).
        """
        reply_sql, params = ("", ()) if reply is None else (f"reply = ?, {READ_SQL}, ", (dump_messages(reply),))
        if speaker is not None:
            reply_sql, params = f"{reply_sql}agent_id = ?, generation_failures = 0, ", (*params, speaker)
        (updated,) = await self._db.write(
            (
                f"UPDATE message_requests SET {reply_sql}status = 'scheduled', due_ms = ?, scheduled_for = ?,"
                " arrive_ms = ?, typing_ms = ?, lease_owner = NULL, updated_at = ?"
                f" WHERE id = ? AND lease_owner = ? AND status IN {IN_FLIGHT_SQL}",
                (
                    *params,
                    int(due * 1000),
                    int(arrive_at),
                    int(arrive_at * 1000),
                    None if typing_at is None else int(typing_at * 1000),
                    self._db.now(),
                    request_id,
                    owner,
                ),
            )  # fmt: skip
        )
        return updated == 1

    async def typing_started(self, request_id: str, owner: str, at: int) -> bool:
        """Keep when the agent started typing a leased request's reply (the latest time: a reply typed again
        after a long stop was typed then); False if the lease was lost."""
        (updated,) = await self._db.write(
            (
                "UPDATE message_requests SET typing_started_at = ?"
                f" WHERE id = ? AND lease_owner = ? AND status IN {IN_FLIGHT_SQL}",
                (at, request_id, owner),
            )
        )
        return updated == 1

    async def finish_attempt(
        self,
        request_id: str,
        owner: str,
        attempt: Attempt | None,
        outcome: Outcome,
        retry_at: float | None = None,
        counter: Counter | None = "attempts",
        follow_up: FollowUp | None = None,
    ) -> bool:
        """Log an attempt (if one was made) and move the request on; False, with nothing written, if `owner`
        no longer holds the request's lease (another process took it over while this one was frozen).

        Delivered or failed end it (content purged); retry schedules it again at `retry_at`; paused keeps
        it, content and all, until its webhook is enabled again. `counter` is the budget the attempt used.
        A delivered group reply queues `follow_up`, the next turn of its exchange, in the same transaction.
        """
        params: tuple[Any, ...]
        if attempt is None:  # nothing was tried (a pause): the last attempt's error and status stay
            now = self._db.now()
            common, params = "updated_at = ?", (now,)
        else:
            now = attempt.attempted_at
            common = "last_error = ?, last_status_code = ?, updated_at = ?"
            params = (attempt.error, attempt.status_code, now)
        if counter is not None:
            common = f"{counter} = {counter} + 1, {common}"
        if outcome == "retry":
            assert retry_at is not None
            change = (
                f"status = 'scheduled', due_ms = ?, scheduled_for = ?, lease_owner = NULL, sending_at = NULL, {common}"
            )
            params = (int(retry_at * 1000), int(retry_at), *params)
        elif outcome == "paused":  # back to its due time, so it goes out in turn once the webhook is enabled
            change = f"status = '{PAUSED}', due_ms = scheduled_for * 1000, lease_owner = NULL, {common}"
        elif outcome == "delivered":
            change = f"status = 'delivered', delivered_at = ?, {PURGE_SQL}, {common}"
            params = (now, *params)
        else:
            change = f"status = 'failed', {PURGE_SQL}, {common}"
        # Every statement is fenced by the lease, and the first locks the row while `owner` still holds it (the
        # attempt's check, with the database's row lock; SQLite's write transaction excludes every other): a
        # claim by another process then waits for this commit, or this one finds the row taken.
        held = f"id = ? AND lease_owner = ? AND status IN {PENDING_SQL}"
        statements: list[Statement] = []
        if attempt is not None:
            statements.append(
                (
                    "INSERT INTO delivery_attempts (request_id, attempted_at, status_code, duration_ms, error,"
                    " response_body) SELECT ?, ?, ?, ?, ?, ?"
                    f" WHERE EXISTS (SELECT 1 FROM message_requests WHERE {held}{self._db.row_lock})",
                    (
                        request_id,
                        attempt.attempted_at,
                        attempt.status_code,
                        attempt.duration_ms,
                        attempt.error,
                        attempt.response_body,
                        request_id,
                        owner,
                    ),
                )
            )
        statements.append((f"UPDATE message_requests SET {change} WHERE {held}", (*params, request_id, owner)))
        if outcome == "paused":
            return await self._pause(request_id, statements)
        if outcome == "delivered" and follow_up is not None:
            return await self._deliver_and_follow(request_id, statements, follow_up)
        return await self._move(request_id, statements, outcome)

    async def _move(self, request_id: str, statements: list[Statement], outcome: Outcome) -> bool:
        """Write an attempt's statements; a check-in to retry that the user made moot meanwhile ends instead."""
        moot = [(END_MOOT_SQL, (request_id,))] if outcome == "retry" else []
        counts = await self._db.write(*statements, *moot, purges=outcome in ("delivered", "failed"))
        if moot and counts[-1]:
            self._db.content_purged()
        return counts[len(statements) - 1] == 1  # the move's rowcount: whether the lease still held

    async def _pause(self, request_id: str, statements: list[Statement]) -> bool:
        """Park a request whose webhook its delivery found disabled, under the webhook's lock, as enabling it
        takes: if the webhook was enabled again since (a committed enable is then visible), it goes back to
        the queue at once instead of waiting, paused, under an enabled webhook."""
        async with self._db.transaction() as tx:
            found = await tx.fetch("SELECT webhook_id FROM message_requests WHERE id = ?", (request_id,))
            if found:
                await tx.lock(f"webhook:{found[0][0]}")
            parked = 0
            for sql, params in statements:
                parked = await tx.execute(sql, params)  # the last one's count: whether the lease was still held
            if not parked:
                return False
            await tx.execute(
                f"UPDATE message_requests SET status = 'scheduled' WHERE id = ? AND status = '{PAUSED}'"
                " AND webhook_id IN (SELECT id FROM webhooks WHERE enabled = TRUE)",
                (request_id,),
            )
        return True

    async def _deliver_and_follow(self, request_id: str, statements: list[Statement], follow_up: FollowUp) -> bool:
        """End a delivered group reply and queue the next turn of its exchange, in one transaction, unless the
        lease was lost (whoever holds it decides) or a newer user message ended the exchange meanwhile
        (RequestStore's superseding sets turns_left to 0)."""
        async with self._db.transaction() as tx:
            changed = 0
            for sql, params in statements:
                changed = await tx.execute(sql, params)
            if changed:
                found = await tx.fetch("SELECT turns_left FROM message_requests WHERE id = ?", (request_id,))
                if found and found[0][0] > 0:
                    await tx.execute(INSERT, insert_row(*follow_up, None, None, ""))
        self._db.content_purged()
        return changed == 1

    async def release(self, request_ids: Sequence[str], owner: str, now: float) -> None:
        """Give claimed requests back to the queue, due now (on shutdown).

        Through the group commit, so it lands after any bookkeeping of those requests already queued there.
        """
        if not request_ids:
            return
        await self._db.write(
            (
                "UPDATE message_requests SET status = 'scheduled', due_ms = ?, lease_owner = NULL, sending_at = NULL"
                f" WHERE lease_owner = ? AND status IN {PENDING_SQL} AND id IN ({', '.join('?' * len(request_ids))})",
                (int(now * 1000), owner, *request_ids),
            )
        )

    async def leased_to(self, owner: str) -> builtins.list[str]:
        """The ids of the requests `owner` holds a live or lapsed lease on (from the small in-flight index)."""
        rows = await self._db.read(
            f"SELECT id FROM message_requests WHERE status IN {IN_FLIGHT_SQL} AND lease_owner = ?", (owner,)
        )
        return [row[0] for row in rows]

    async def any_due(self, now: float) -> bool:
        """Whether a claim at `now` could take anything: a request due by then, or a lease run out. One read of
        the pending index, where a claim that takes nothing is still a write transaction (SQLite's write lock;
        on PostgreSQL, the claim lock every server takes)."""
        row = await self._db.one(
            f"SELECT 1 FROM message_requests WHERE status IN {PENDING_SQL} AND due_ms <= ? LIMIT 1",
            (int(now * 1000),),
        )
        return row is not None

    async def next_due(self, after: float) -> float | None:
        """When the dispatcher is next needed: the earliest due time or lease expiry later than `after`.

        Rows due by `after` that a claim at `after` did not take are held back (their webhook is at its
        limit, or this process is still delivering them); a finishing delivery wakes the dispatcher for those.
        """
        row = await self._db.one(
            f"SELECT min(due_ms) FROM message_requests WHERE status IN {PENDING_SQL} AND due_ms > ?",
            (int(after * 1000),),
        )
        return None if row is None or row[0] is None else row[0] / 1000

    async def pending_stats(self, now: float) -> tuple[dict[str, int], float]:
        """Requests waiting by status (paused included), and how long the oldest one already due has waited
        (0 if none; paused ones wait for their webhook, not for us, so they do not count)."""
        rows = await self._db.read(
            f"SELECT status, count(*), min(scheduled_for) FROM message_requests WHERE status IN {PENDING_SQL}"
            f" OR status = '{PAUSED}' GROUP BY status",
            (),
        )
        counts = {row[0]: int(row[1]) for row in rows}
        oldest = min((float(row[2]) for row in rows if row[0] != PAUSED), default=now)
        return counts, max(0.0, now - oldest)

    async def purge_ended(self, before: int, paused_before: int | None = None) -> int:
        """Delete the metadata (and attempt log) of requests that ended before `before`.

        Also forget idempotency keys and body hashes once their 24-hour window has passed, and fail (and
        purge the content of) requests paused since before `paused_before`, and any that has not ended but
        whose webhook is gone (it was deleted while one was being accepted), which no claim would ever take.
        """
        purged = 0
        async with self._db.transaction() as tx:
            purged += await tx.execute(
                f"UPDATE message_requests SET status = 'failed', {PURGE_SQL}, updated_at = ?,"
                " last_error = 'The webhook was deleted before the reply was delivered.'"
                f" WHERE status IN ('scheduled', 'generating', 'delivering', '{PAUSED}')"
                " AND NOT EXISTS (SELECT 1 FROM webhooks WHERE webhooks.id = message_requests.webhook_id)",
                (self._db.now(),),
            )
            if paused_before is not None:
                purged += await tx.execute(
                    f"UPDATE message_requests SET status = 'failed', {PURGE_SQL}, updated_at = ?,"
                    " last_error = 'Its webhook stayed disabled longer than [delivery] paused_max_days allows.'"
                    f" WHERE status = '{PAUSED}' AND updated_at < ?",
                    (self._db.now(), paused_before),
                )
            await tx.execute(FORGET_KEYS_SQL, (self._db.now() - IDEMPOTENCY_WINDOW,))
            await tx.execute(
                "DELETE FROM delivery_attempts WHERE request_id IN (SELECT id FROM message_requests"
                f" WHERE status IN {tuple(ENDED)} AND updated_at < ?)",
                (before,),
            )
            deleted = await tx.execute(
                f"DELETE FROM message_requests WHERE status IN {tuple(ENDED)} AND updated_at < ?", (before,)
            )
        if purged:
            self._db.content_purged()
        return deleted
