"""A process that lost its lease writes nothing about the request, on both engines (the queue's contract).

Two storages on one database stand for two server processes: the first claims a request, its lease runs
out (it was frozen), the second claims it. Whatever the first then tries to record is refused as a whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import Attempt
from novaro_lite.storage.queue import Counter, Outcome
from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio
NOW = 1_700_000_000.0
LEASE = 30.0


@pytest.fixture
def target(tmp_path: Path, database_url: str) -> Path | str:
    return database_url or tmp_path / "novaro.db"


async def claim_one(storage: Storage, owner: str, now: float) -> str:
    (request,) = await storage.queue.claim(
        now=now, lease_seconds=LEASE, limit=10, per_webhook=10, in_flight={}, working=(), owner=owner
    )
    return request.id


async def attempts(storage: Storage, request_id: str) -> list[tuple[int | None, str | None]]:
    rows = await storage.database.all(
        "SELECT status_code, error FROM delivery_attempts WHERE request_id = ? ORDER BY seq", (request_id,)
    )
    return [(row[0], row[1]) for row in rows]


async def status(storage: Storage, request_id: str) -> tuple[str, str | None, int]:
    row = await storage.database.one(
        "SELECT status, lease_owner, attempts FROM message_requests WHERE id = ?", (request_id,)
    )
    assert row is not None
    return row[0], row[1], row[2]


@pytest.mark.parametrize("outcome", ["delivered", "retry", "failed", "paused"])
async def test_a_process_whose_lease_was_taken_over_records_nothing(target, outcome: Outcome):
    async with Storage.open(target, lambda: NOW) as frozen, Storage.open(target, lambda: NOW) as other:
        hook = await frozen.webhooks.create("acme", "https://a.example/hook", "", True)
        request_id = await frozen.requests.create(
            "acme", agent_id="agt_1", webhook_id=hook.id, reference="r", messages=[ChatMessage("user", "hi")],
            context_ids=(), plan=Plan(NOW - 1, NOW - 1), accepted=lambda request: request.id,
        )  # fmt: skip
        assert await claim_one(frozen, "frozen", NOW) == request_id
        # The first process froze past its lease: the other takes the request over.
        assert await claim_one(other, "other", NOW + LEASE + 1) == request_id

        late = Attempt(int(NOW) + 40, 200 if outcome == "delivered" else 500, 40_000, None, "ok")
        attempt = None if outcome == "paused" else late
        counter: Counter | None = None if outcome == "paused" else "attempts"
        recorded = await frozen.queue.finish_attempt(
            request_id, "frozen", attempt, outcome, retry_at=NOW + 100, counter=counter
        )
        assert recorded is False
        assert await attempts(other, request_id) == []
        assert await status(other, request_id) == ("generating", "other", 0)

        # The holder's own record goes through.
        mine = Attempt(int(NOW) + 32, 200, 10, None, "ok")
        assert await other.queue.finish_attempt(request_id, "other", mine, "delivered") is True
        assert await attempts(other, request_id) == [(200, None)]
        assert (await status(other, request_id))[0] == "delivered"


async def test_a_request_that_already_ended_takes_no_late_attempt(target):
    async with Storage.open(target, lambda: NOW) as storage:
        hook = await storage.webhooks.create("acme", "https://a.example/hook", "", True)
        request_id = await storage.requests.create(
            "acme", agent_id="agt_1", webhook_id=hook.id, reference="r", messages=[ChatMessage("user", "hi")],
            context_ids=(), plan=Plan(NOW - 1, NOW - 1), accepted=lambda request: request.id,
        )  # fmt: skip
        await claim_one(storage, "one", NOW)
        assert await storage.queue.finish_attempt(request_id, "one", Attempt(int(NOW), 200, 5, None, ""), "delivered")
        # A second record of the same delivery (a stale task of the same process) is refused too.
        assert not await storage.queue.finish_attempt(
            request_id, "one", Attempt(int(NOW), None, 5, "late", None), "retry", retry_at=NOW + 60
        )
        assert await attempts(storage, request_id) == [(200, None)]
