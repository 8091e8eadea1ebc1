"""The delivery queue's storage operations on PostgreSQL, timed alone: accepting, claiming, recording a delivery.

Run: .venv/bin/python bench/pg_ops.py [--rounds 5]
Before/after, each side in its own checkout: .venv/bin/python bench/before_after.py --before DIR --after . \\
    --rounds 3 -- bench/pg_ops.py
(both checkouts' schemas must be ones the other can open, as the servers never share a database here.)

One run starts a throwaway PostgreSQL 16 (the `pgserver` wheel, its defaults: fsync and synchronous_commit
on) in a temporary directory, and drives the storage layer of whichever novaro_lite is first on the path,
in this process, with no server and no HTTP: so what differs between two checkouts is the storage's own work
and its round trips. Per round, on a fresh database:

1. accept: BURSTS bursts of 64 concurrent `requests.create` (one group-commit batch each, mostly);
2. claim 16: leases of 16 rows at a time until the 64 × BURSTS accepted requests are all claimed;
3. record: for every claimed request, its reply stored and its delivery recorded (`store_reply` then
   `finish_attempt(…, "delivered")`): half of them 16 deliveries at a time, the other half all at once (their
   writes group-committed together: a batch of 640, then one of 1,280 statements);
4. claim, empty: EMPTY claims with nothing due.

Each line says, per operation (per request for 1 and 3, per claim for 2 and 4): wall time, this process's CPU
and PostgreSQL's (every process of the server, from /proc), in µs; the medians of the rounds at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from procs import cpu_seconds

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import Attempt
from novaro_lite.storage.store import Storage

BURSTS = 20
EMPTY = 300
MESSAGES = [ChatMessage("user", "Are you open tomorrow? " * 8)]
REPLY = [ChatMessage("assistant", "We are, from nine to six.")]


async def timed(name: str, count: int, postgres: int, work: Callable[[], Awaitable[None]]) -> dict[str, float]:
    wall, cpu, server = time.perf_counter(), time.process_time(), cpu_seconds(postgres, reaped=True)
    await work()
    per = 1e6 / count
    figures = {
        "wall": (time.perf_counter() - wall) * per,
        "cpu": (time.process_time() - cpu) * per,
        "pg": (cpu_seconds(postgres, reaped=True) - server) * per,
    }
    print(f"  {name}: " + ", ".join(f"{key} {value:,.0f} µs" for key, value in figures.items()), flush=True)
    return figures


async def one_round(url: str, postgres: int) -> dict[str, dict[str, float]]:
    now = time.time()
    async with Storage.open(url, lambda: now) as storage:
        hook = await storage.webhooks.create("bench", "https://hooks.example.com/x", "", True)
        queue = storage.queue

        async def accept() -> None:
            for burst in range(BURSTS):
                await asyncio.gather(*(
                    storage.requests.create(
                        "bench", agent_id="agt_bench", webhook_id=hook.id, reference=f"r{burst}-{i}",
                        messages=MESSAGES, context_ids=(), plan=Plan(now - 1, now - 1),
                    ) for i in range(64)
                ))  # fmt: skip

        claimed: list[str] = []

        async def claim(limit: int) -> None:
            while taken := await queue.claim(
                now=now, lease_seconds=300, limit=limit, per_webhook=10**6, in_flight={}, working=(), owner="me"
            ):
                claimed.extend(request.id for request in taken)

        async def deliver(request_id: str) -> None:
            await queue.store_reply(request_id, "me", REPLY, now + 300)
            await queue.finish_attempt(request_id, "me", Attempt(int(now), 200, 3, None, "ok"), "delivered")

        async def record(requests: list[str], at_once: int) -> None:
            for start in range(0, len(requests), at_once):
                await asyncio.gather(*(deliver(request_id) for request_id in requests[start : start + at_once]))

        async def claim_nothing() -> None:
            for _ in range(EMPTY):
                await queue.claim(now=now, lease_seconds=300, limit=16, per_webhook=16, in_flight={}, working=(),
                                  owner="me")  # fmt: skip

        total = 64 * BURSTS
        figures = {"accept": await timed("accept (per request)", total, postgres, accept)}
        figures["claim 16"] = await timed("claim 16 (per claim)", total // 16, postgres, lambda: claim(16))
        assert len(claimed) == total, len(claimed)
        half = total // 2
        figures["record"] = await timed("record (per delivery)", half, postgres, lambda: record(claimed[:half], 16))
        figures["record 640"] = await timed(
            "record, 640 at once (per delivery)", half, postgres, lambda: record(claimed[half:], half)
        )
        figures["claim, empty"] = await timed("claim, empty (per claim)", EMPTY, postgres, claim_nothing)
        return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with warnings.catch_warnings():  # platformdirs warns, on import, that XDG_RUNTIME_DIR is not set
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import get_server
    with tempfile.TemporaryDirectory(prefix="pg-ops-") as root:
        server = get_server(Path(root), cleanup_mode="stop")
        postgres = int((Path(root) / "postmaster.pid").read_text().split()[0])
        rounds: list[dict[str, dict[str, float]]] = []
        try:
            for number in range(options.rounds):
                admin = await asyncpg.connect(server.get_uri("postgres"))
                await admin.execute(f"CREATE DATABASE ops_{number}")
                await admin.close()
                print(f"round {number + 1}", flush=True)
                rounds.append(await one_round(server.get_uri(f"ops_{number}"), postgres))
        finally:
            server.cleanup()
    print(f"medians of {options.rounds} rounds, µs per operation (wall / this process's CPU / PostgreSQL's CPU):")
    for name in rounds[0]:
        medians = [statistics.median(r[name][key] for r in rounds) for key in ("wall", "cpu", "pg")]
        print(f"  {name}: " + " / ".join(f"{value:,.0f}" for value in medians))


if __name__ == "__main__":
    asyncio.run(main())
