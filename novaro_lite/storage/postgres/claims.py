"""The delivery queue's claim on PostgreSQL: FOR UPDATE SKIP LOCKED, and per-webhook limits across processes.

One statement per batch: for each webhook with room, its first due rows (from the (webhook_id, due_ms)
partial index); the oldest due of those, up to the batch's size, are locked with SKIP LOCKED (a row another
transaction is changing is left for the next claim rather than waited for), leased and returned. Only the
chosen rows are locked, not every webhook's candidates. A webhook's room is its limit
less what is in flight: the larger of this process's count and the database's (rows generated or delivered
under a live lease, from a small partial index of those alone).

That count can only be trusted if no other process is claiming at the same moment (it would not see the
other's uncommitted leases), so claims take one transaction-scoped advisory lock first, and the count must be
read after the lock is granted. Both happen on the server, in one call: `novaro_claim` (batches.py, schema.py)
takes the lock, then runs the claim statement, which (a new statement in a function) takes its snapshot then.
Its transaction is that one call: the lock is held for the statement (a few milliseconds), and everything else
— accepting, delivering, recording — runs in parallel.

So the lock is never held while PostgreSQL waits for the client's next command: a process stopped (SIGSTOP, a
paused VM) while it sends the call has not taken it yet, and one stopped once the call is sent has its claim
run and committed all the same (its leases then run out, and the rows go to another process). The one wait
left is PostgreSQL's sending of the leased rows, which ends the call: rows larger than the connection's
socket buffers hold wait, the lock held, until a stopped process resumes or dies.
"""

from __future__ import annotations

import json
from typing import Any

from novaro_lite.storage.database import Claim
from novaro_lite.storage.requests import IN_FLIGHT_SQL, PENDING_SQL

CLAIM_LOCK = "novaro-lite:claim"
MIN_BIGINT = -(2**63)


def claim_statement(claim: Claim, set_sql: str) -> tuple[str, tuple[Any, ...]]:
    """The statement that leases what `claim` asks for, to run under the claim lock, and its parameters;
    `set_sql`'s placeholders take lease_until_ms, owner and now. It returns whole rows (novaro_claim's type)."""
    sql = f"""
        WITH open AS (
            SELECT w.id, ?::bigint - greatest(coalesce(mine.value::bigint, 0), (
                SELECT count(*) FROM message_requests AS busy
                WHERE busy.webhook_id = w.id AND busy.status IN {IN_FLIGHT_SQL} AND busy.due_ms > ?
            )) AS room
            FROM webhooks AS w LEFT JOIN json_each_text(?::json) AS mine ON mine.key = w.id
        ), chosen AS (
            SELECT head.seq FROM open, LATERAL (
                SELECT seq, due_ms FROM message_requests
                -- As a row range, which only the (webhook_id, due_ms) index answers: with `webhook_id = … AND
                -- due_ms <= …` the planner may walk the (due_ms) index instead and read past a busy
                -- webhook's whole backlog to find another's rows (tests/storage/test_queue.py).
                WHERE (webhook_id, due_ms) BETWEEN (open.id, {MIN_BIGINT}) AND (open.id, ?)
                AND status IN {PENDING_SQL}
                ORDER BY webhook_id, due_ms LIMIT open.room
            ) AS head
            WHERE open.room > 0  -- webhooks at their limit are skipped
            ORDER BY head.due_ms, head.seq
            LIMIT ?
        ), locked AS (
            SELECT seq FROM message_requests WHERE seq IN (SELECT seq FROM chosen)
            AND status IN {PENDING_SQL} AND due_ms <= ?  -- as it is now, should it have changed since the choice
            FOR UPDATE SKIP LOCKED
        )
        UPDATE message_requests SET {set_sql}
        WHERE seq IN (SELECT seq FROM locked) AND (lease_owner IS DISTINCT FROM ? OR NOT id = ANY(?::text[]))
        RETURNING message_requests.*
    """
    params = (
        claim.per_webhook,
        claim.now_ms,
        json.dumps(dict(claim.in_flight)),
        claim.now_ms,
        claim.limit,
        claim.now_ms,
        claim.lease_until_ms,
        claim.owner,
        claim.now_ms // 1000,
        claim.owner,
        list(claim.working),
    )
    return sql, params
