"""The delivery queue: claims in due order across webhooks, at a cost that does not grow with the backlog."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.storage.database import Claim
from novaro_lite.storage.postgres.claims import CLAIM_SQL, claim_args
from novaro_lite.storage.queue import FORGET_KEYS_SQL
from novaro_lite.storage.sqlite.database import SqliteDatabase
from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio
NOW = time.time()


@pytest.fixture
async def storage(target: Path | str) -> AsyncIterator[Storage]:
    async with Storage.open(target, lambda: NOW) as storage:
        yield storage


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[Storage]:
    """For the tests that measure SQLite's own work."""
    async with Storage.open(tmp_path / "novaro.db", lambda: NOW) as storage:
        yield storage


async def accept(storage: Storage, webhook_id: str, due: float) -> str:
    return await storage.requests.create(
        "acme", agent_id="agt_1", webhook_id=webhook_id, reference="r", messages=[ChatMessage("user", "hi")],
        context_ids=(), plan=Plan(due, due), accepted=lambda request: request.id,
    )  # fmt: skip


async def claim(
    storage: Storage, limit: int, in_flight: dict[str, int] | None = None, owner: str = "own", now: float = NOW
) -> list[str]:
    claimed = await storage.queue.claim(
        now=now, lease_seconds=300, limit=limit, per_webhook=8, in_flight=in_flight or {}, working=(), owner=owner
    )
    return [request.id for request in claimed]


async def test_claim_takes_the_oldest_due_first_across_webhooks(storage):
    hooks = [await storage.webhooks.create("acme", f"https://{n}.example/hook", "", True) for n in "ab"]
    older_hook, newer_hook = sorted(hooks, key=lambda hook: hook.id)  # ids sort by creation time
    due_a_second_ago = await accept(storage, older_hook.id, NOW - 1)
    due_an_hour_ago = await accept(storage, newer_hook.id, NOW - 3600)
    assert await claim(storage, limit=1) == [due_an_hour_ago]  # one free slot: the longest waiting wins
    assert await claim(storage, limit=1) == [due_a_second_ago]


async def test_claim_leaves_each_webhook_within_its_limit_oldest_first(storage):
    hook = await storage.webhooks.create("acme", "https://a.example/hook", "", True)
    ids = [await accept(storage, hook.id, NOW - 100 + n) for n in range(12)]
    assert await claim(storage, limit=50, in_flight={hook.id: 5}) == ids[:3]
    assert await claim(storage, limit=50, in_flight={hook.id: 8}) == []


async def test_the_per_webhook_limit_holds_across_processes_on_one_database(target):
    async with Storage.open(target, lambda: NOW) as one, Storage.open(target, lambda: NOW) as other:
        hook = await one.webhooks.create("acme", "https://a.example/hook", "", True)
        ids = [await accept(one, hook.id, NOW - 100 + n) for n in range(30)]
        first = await claim(one, limit=5, owner="one")
        assert first == ids[:5]
        # The other process counts none of its own in flight, yet the webhook has only 3 slots left.
        assert await claim(other, limit=50, owner="other") == ids[5:8]
        assert await claim(other, limit=50, owner="other") == []
        # Leases that ran out are no longer in flight: all 8 slots are free again (the expired rows are due again
        # at their lease's end, after the rows that have waited since before it).
        assert await claim(other, limit=50, owner="other", now=NOW + 301) == ids[8:16]


async def test_concurrent_claims_of_two_processes_never_share_a_row_or_pass_the_limit(target):
    async with Storage.open(target, lambda: NOW) as one, Storage.open(target, lambda: NOW) as other:
        hooks = [await one.webhooks.create("acme", f"https://{n}.example/hook", "", True) for n in range(3)]
        for hook in hooks:
            for n in range(20):
                await accept(one, hook.id, NOW - 100 + n)
        rounds = await asyncio.gather(
            *(claim(store, limit=4, owner=f"{name}{n}") for n in range(6) for name, store in (("a", one), ("b", other)))
        )
        taken = [request_id for found in rounds for request_id in found]
        assert len(taken) == len(set(taken)) == 24  # 3 webhooks x 8: never a row twice, never past a limit


async def claim_cost(storage: Storage, busy_hook: str) -> int:
    """SQLite virtual-machine steps of one claim while `busy_hook` is at its limit: a measure of work done
    that, unlike a timer, does not depend on the machine's load."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    assert isinstance(storage.database, SqliteDatabase)
    writer = storage.database._writer
    await writer.set_progress_handler(count, 100)
    try:
        await claim(storage, limit=64, in_flight={busy_hook: 8})
    finally:
        await writer.set_progress_handler(None, 0)  # type: ignore[arg-type]
    return steps


async def add_backlog(storage: Storage, webhook_id: str, count: int) -> None:
    async with storage.database.transaction() as db:
        await db.executemany(
            "INSERT INTO message_requests (id, account, agent_id, webhook_id, reference, status, due_ms,"
            " scheduled_for, created_at, updated_at) VALUES (?, 'acme', 'agt_1', ?, 'r', 'scheduled', ?, ?, ?, ?)",
            [(f"req_backlog_{webhook_id}_{n}", webhook_id, int((NOW - 60) * 1000), int(NOW - 60), int(NOW), int(NOW))
             for n in range(count)],
        )  # fmt: skip


async def test_claim_cost_stays_flat_as_a_busy_webhooks_backlog_grows(sqlite_storage):
    storage = sqlite_storage
    busy = await storage.webhooks.create("acme", "https://busy.example/hook", "", True)
    idle = await storage.webhooks.create("acme", "https://idle.example/hook", "", True)
    await add_backlog(storage, busy.id, 1000)
    await accept(storage, idle.id, NOW - 1)
    small = await claim_cost(storage, busy.id)
    await storage.queue.release(await claim(storage, 64), "own", NOW)  # the idle webhook's row, back again
    async with storage.database.transaction() as db:
        await db.execute("DELETE FROM message_requests WHERE webhook_id = ?", (busy.id,))
    await add_backlog(storage, busy.id, 30000)
    large = await claim_cost(storage, busy.id)
    assert large < small * 2, f"a 30x backlog made the claim cost {large / small:.1f}x"


async def test_forgetting_idempotency_keys_uses_an_index(sqlite_storage):
    plan = await sqlite_storage.database.all(f"EXPLAIN QUERY PLAN {FORGET_KEYS_SQL}", (NOW,))
    assert any("USING INDEX message_requests_idempotency_expiry" in row["detail"] for row in plan), [
        row["detail"] for row in plan
    ]


async def test_a_postgresql_claim_reads_no_more_as_a_busy_webhooks_backlog_grows(postgres):
    """Buffers one claim touches (EXPLAIN ANALYZE), while a busy webhook at its limit has 1,000 then 30,000
    due rows: the other webhook's rows are found from (webhook_id, due_ms), not by scanning the backlog."""
    url = postgres.new_database()
    async with Storage.open(url, lambda: NOW) as storage:
        busy = await storage.webhooks.create("acme", "https://busy.example/hook", "", True)
        idle = await storage.webhooks.create("acme", "https://idle.example/hook", "", True)
        await accept(storage, idle.id, NOW - 1)
        connection = await asyncpg.connect(url)
        claim = Claim(
            now_ms=int(NOW * 1000), lease_until_ms=int((NOW + 300) * 1000), owner="own", limit=20, per_webhook=8,
            in_flight={busy.id: 8}, working=(),
        )  # fmt: skip
        blocks: list[int] = []

        async def explained() -> None:
            """Note the shared buffers the claim touches; EXPLAIN ANALYZE runs the UPDATE: it is rolled back."""
            with pytest.raises(asyncpg.exceptions.QueryCanceledError):
                async with connection.transaction():
                    plan = await connection.fetchval(
                        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {CLAIM_SQL}", *claim_args(claim)
                    )
                    blocks.append(json.loads(plan)[0]["Plan"]["Shared Hit Blocks"])
                    raise asyncpg.exceptions.QueryCanceledError("rolled back")

        try:
            for start, end in ((0, 1000), (1000, 30000)):
                await connection.executemany(
                    "INSERT INTO message_requests (id, account, agent_id, webhook_id, reference, status, due_ms,"
                    " scheduled_for, created_at, updated_at)"
                    " VALUES ($1, 'acme', 'a', $2, 'r', 'scheduled', $3, 0, 0, 0)",
                    [(f"req_busy_{n}", busy.id, int((NOW - 60) * 1000) + n) for n in range(start, end)],
                )
                await connection.execute("ANALYZE message_requests")
                await explained()
                await explained()  # the second, with the function's plan made and its catalog rows read
        finally:
            await connection.close()
        assert 0 < blocks[3] < blocks[1] * 2, f"a 30x backlog made the claim read {blocks}"


async def test_a_turn_held_for_another_speaker_is_theirs_with_a_fresh_budget(storage):
    """A group turn whose speaker was deleted passes to a stand-in (delivery/groups.stand_in): the request then
    names the stand-in, and the deleted speaker's model failures no longer count against it (nor keep it from
    sending its own message.read)."""
    hook = await storage.webhooks.create("acme", "https://a.example/hook", "", True)
    request_id = await accept(storage, hook.id, NOW - 1)
    assert await claim(storage, limit=1) == [request_id]
    assert await storage.queue.finish_attempt(request_id, "own", None, "retry", NOW - 1, "generation_failures")
    assert await claim(storage, limit=1) == [request_id]
    assert await storage.queue.hold(request_id, "own", due=NOW + 5, arrive_at=NOW + 9, speaker="agt_2")
    held = await storage.requests.get("acme", request_id)
    assert (held.agent_id, held.generation_failures, held.status) == ("agt_2", 0, "scheduled")
    assert not await storage.queue.hold(request_id, "someone else", due=NOW, arrive_at=NOW, speaker="agt_3")
