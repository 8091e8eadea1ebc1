"""The delivery queue's claim on PostgreSQL: FOR UPDATE SKIP LOCKED, and per-webhook limits across processes.

One statement per batch, in the function novaro_claim (schema.py, migration 8, which holds its SQL): for each
webhook with room, its first due rows; the oldest due of those, up to the batch's size, are locked with SKIP
LOCKED (a row another transaction is changing is left for the next claim rather than waited for), leased and
returned. Only the chosen rows are locked, not every webhook's candidates. A webhook's candidates are read as
a row range of the (webhook_id, due_ms) partial index, which only that index answers: with `webhook_id = …
AND due_ms <= …` the planner may walk the (due_ms) index instead and read past a busy webhook's whole backlog
(tests/storage/test_queue.py). A webhook's room is its limit less what is in flight: the larger of this
process's count and the database's (rows generated or delivered under a live lease, from a small partial
index of those alone).

That count can only be trusted if no other process is claiming at the same moment (it would not see the
other's uncommitted leases), so claims take one transaction-scoped advisory lock first, and the count must be
read after the lock is granted. Both happen on the server, in one call: novaro_claim takes the lock, then runs
the claim statement, which (a new statement in a function) takes its snapshot then; PL/pgSQL keeps its plan
for the session, as a prepared statement's. The call is its own transaction: the lock is held for the
statement (a few milliseconds), and everything else — accepting, delivering, recording — runs in parallel.

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

CLAIM_SQL = "SELECT * FROM novaro_claim($1, $2, $3::json, $4, $5, $6, $7::text[])"


def claim_args(claim: Claim) -> tuple[Any, ...]:
    """CLAIM_SQL's arguments: the webhooks' limit, now (ms), this process's in-flight counts per webhook, how many
    rows at most, the lease's end (ms), the claimant, and the requests it is still delivering."""
    in_flight = json.dumps(dict(claim.in_flight))
    return (
        claim.per_webhook,
        claim.now_ms,
        in_flight,
        claim.limit,
        claim.lease_until_ms,
        claim.owner,
        [*claim.working],
    )
