"""Benchmark one delivery claim against a large backlog: how its cost grows with the number of pending rows.

Run: .venv/bin/python bench/claim.py [--sizes 100000,1000000] [--runs 15]
To measure another checkout with the same script, put it first on PYTHONPATH:
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/claim.py

Each size gets a fresh database (the code under test creates and migrates it) holding that many pending
requests, all due, spread over 50 webhooks: 4 "busy" webhooks hold 90% of the backlog and are at their
in-flight limit, the 46 others share the rest. Timed: `DeliveryQueue.claim(limit=64)` as the dispatcher
calls it, in two situations: the busy webhooks at their limit (the claim must find the idle webhooks'
rows), and nothing in flight. After each claim the rows are handed back (untimed), so every run sees the
same table. Reported: the median and the spread of --runs claims.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import novaro_lite
from novaro_lite.storage.store import Storage

WEBHOOKS, BUSY, PER_WEBHOOK, LIMIT = 50, 4, 8, 64
ACCOUNT = "bench"
INSERT = (
    "INSERT INTO message_requests (id, account, agent_id, webhook_id, reference, status, due_ms, scheduled_for,"
    " messages, created_at, updated_at) VALUES (?, ?, 'agt_bench', ?, 'r', 'scheduled', ?, ?, ?, ?, ?)"
)
MESSAGES = '[["user","Are we still on for Friday?",null]]'


async def seed(storage: Storage, pending: int, now: float) -> list[str]:
    """Create the webhooks and `pending` due requests; return the webhook ids, busy ones first."""
    hooks = [await storage.webhooks.create(ACCOUNT, f"https://h{n}.example/hook", "", True) for n in range(WEBHOOKS)]
    ids = [hook.id for hook in hooks]
    busy_rows = pending * 9 // 10
    batch = 50_000
    for start in range(0, pending, batch):
        rows = []
        for i in range(start, min(start + batch, pending)):
            webhook = ids[i % BUSY] if i < busy_rows else ids[BUSY + i % (WEBHOOKS - BUSY)]
            due_ms = int((now - 3600) * 1000) + i  # all due, in arrival order
            rows.append((f"req_bench_{i:08d}", ACCOUNT, webhook, due_ms, due_ms // 1000, MESSAGES, int(now), int(now)))
        async with storage.database.transaction() as db:
            await db.executemany(INSERT, rows)
    await storage.database.checkpoint()
    return ids


async def time_claims(
    storage: Storage, now: float, in_flight: dict[str, int], runs: int
) -> tuple[list[float], list[int]]:
    """Time `runs` claims; also count SQLite VM instructions (in thousands) per claim, which load cannot skew."""
    timings, steps = [], []
    counted = 0

    def count() -> int:
        nonlocal counted
        counted += 1
        return 0

    writer = storage.database._writer
    for _ in range(runs):
        counted = 0
        await writer.set_progress_handler(count, 1000)
        began = time.perf_counter()
        claimed = await storage.queue.claim(
            now=now, lease_seconds=300, limit=LIMIT, per_webhook=PER_WEBHOOK, in_flight=in_flight, working=(),
            owner="own_bench",
        )  # fmt: skip
        timings.append((time.perf_counter() - began) * 1000)
        await writer.set_progress_handler(None, 0)  # type: ignore[arg-type]
        steps.append(counted)
        assert claimed, "the claim found nothing"
        await storage.queue.release([request.id for request in claimed], "own_bench", now - 3600)
    return timings, steps


def summary(measured: tuple[list[float], list[int]]) -> str:
    timings, steps = measured
    return (
        f"median {statistics.median(timings):7.2f} ms (min {min(timings):.2f}, max {max(timings):.2f});"
        f" {statistics.median(steps):,.0f}k SQLite VM steps"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="pending rows, comma-separated")
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    print(f"claim benchmark: code from {Path(novaro_lite.__file__).parent.parent}, {options.runs} claims per figure")
    now = time.time()
    for pending in (int(size) for size in options.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="novaro-claim-bench-") as work:
            async with Storage.open(Path(work) / "novaro.db", lambda: now) as storage:
                began = time.perf_counter()
                ids = await seed(storage, pending, now)
                seeded = time.perf_counter() - began
                await time_claims(storage, now, {}, 3)  # warm the page cache
                busy = await time_claims(storage, now, {webhook: PER_WEBHOOK for webhook in ids[:BUSY]}, options.runs)
                idle = await time_claims(storage, now, {}, options.runs)
            print(f"{pending:>9,} pending (seeded in {seeded:.0f} s)")
            print(f"    {BUSY} busy webhooks at their limit: {summary(busy)}")
            print(f"    nothing in flight:              {summary(idle)}")


if __name__ == "__main__":
    asyncio.run(main())
