"""Benchmark check-ins (issue 21): a server holding 100,000 pending, the claim's cost against the backlog, and
how late check-ins arrive against their drawn moment.

Run: .venv/bin/python bench/check_ins.py [--sizes 1000,10000,100000] [--rounds 3] [--runs 15] [--lateness 600]

SQLite. The backlog is written straight into storage through the store's own row writer (storage/requests.py
INSERT and insert_row, as POST /api/v1/check-ins stores one): each pending check-in in its own conversation
(the rules allow one per conversation), drawn over the next 7 days, plus 64 that are due now.
1. claim: per size, a fresh database; `DeliveryQueue.claim(limit=64)` as the dispatcher calls it, timed
   --runs times (bench/claim.py's timing, rows handed back after each claim); the median and SQLite VM steps.
2. start-up and memory: `novaro-lite serve` on a data directory holding the largest size, and on an empty
   one; launch to the first answered /healthz, and RSS a second later (after the first dispatch and its
   next-due query). Medians of --rounds launches each.
3. lateness: a real server at time_scale 3600 (a model hour is a real second), --lateness check-ins POSTed
   through the API with the window 0-24 h (0-24 s real) and the default quiet hours, delivered by the demo
   model to a loopback receiver; arrival − drawn moment (arrive_ms, the millisecond the API rounds to
   `scheduledFor`), p50/p99/max. Medians of --rounds rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from claim import LIMIT, summary, time_claims
from engines import load_average
from queue_load import ACCOUNT, database_mb, lateness_ms, rss_mb, seed, write_config
from realtime import free_port, novaro, process, wait_until_up

from novaro_lite.benchmark.loopback import Receiver
from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.check_ins import Moment, QuietHours
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.storage.requests import INSERT, insert_row, new_queued
from novaro_lite.storage.store import Storage

WEEK = 7 * 86400
QUIET = QuietHours("22:00", "08:00")
HISTORY = (ChatMessage("user", "Exam tomorrow, wish me luck"),)
TOPIC = "ask how the exam went"


def check_in_row(number: int, agent_id: str, webhook_id: str, arrive_at: float, now: int) -> tuple[Any, ...]:
    """One pending check-in as the store writes it, arriving at `arrive_at`."""
    plan = Plan(arrive_at - 180, arrive_at)
    moment = Moment(now, now + WEEK, "Europe/Paris", QUIET)
    check_in = new_queued(
        "chk", ACCOUNT, agent_id, webhook_id, f"c{number}", HISTORY, plan, now,
        conversation_id=f"user-{number}", is_humanlike=True, kind="check_in", topic=TOPIC, moment=moment,
    )  # fmt: skip
    return insert_row(check_in, plan, None, None, "")


async def add_check_ins(storage: Storage, agent_id: str, webhook_id: str, pending: int, due: int, now: int) -> None:
    """`pending` check-ins spread over the next week, and `due` more whose moment has come."""
    for start in range(0, pending + due, 20_000):
        rows = [
            check_in_row(n, agent_id, webhook_id, now - 60 if n >= pending else now + 600 + n * WEEK / pending, now)
            for n in range(start, min(start + 20_000, pending + due))
        ]
        async with storage.database.transaction() as tx:
            await tx.executemany(INSERT, rows)
    await storage.database.checkpoint()


async def backlog(data: Path, pending: int, due: int) -> tuple[str, str, str]:
    """A data directory with a token, an always-awake agent, a webhook and the check-ins."""
    token, agent_id, webhook_id = await seed(data, "http://127.0.0.1:9/hook", 0, 0)
    async with Storage.open(data / "novaro.db", time.time) as storage:
        await add_check_ins(storage, agent_id, webhook_id, pending, due, int(time.time()))
    return token, agent_id, webhook_id


async def bench_claims(sizes: list[int], runs: int) -> None:
    for pending in sizes:
        with tempfile.TemporaryDirectory(prefix="novaro-checkin-bench-") as work:
            await backlog(Path(work), pending, LIMIT)
            now = time.time()
            async with Storage.open(Path(work) / "novaro.db", lambda at=now: at) as storage:
                await time_claims(storage, now, {}, 3)  # warm the page cache
                measured = await time_claims(storage, now, {}, runs)
            print(f"  claim, {pending:>7,} pending + {LIMIT} due: {summary(measured)}")


async def bench_start(work: Path, pending: int, rounds: int) -> None:
    for size in (0, pending):
        data = work / f"start-{size}"
        await backlog(data, size, 0)
        port = free_port()
        command = novaro(
            "serve",
            "--port",
            str(port),
            "--config",
            str(write_config(work / "start.toml", synchronous="normal")),
            "--data-dir",
            str(data),
        )
        starts, sizes = [], []
        for _ in range(rounds):
            began = time.perf_counter()
            with process(command) as server:
                wait_until_up(f"http://127.0.0.1:{port}/healthz")
                starts.append(time.perf_counter() - began)
                await asyncio.sleep(1)  # the first dispatch and its next-due query
                sizes.append(rss_mb(server.pid))
        print(
            f"  serve, {size:>7,} pending (database {database_mb(data):,.0f} MiB): start to serving"
            f" {statistics.median(starts):.2f} s (runs {', '.join(f'{s:.2f}' for s in starts)});"
            f" RSS {statistics.median(sizes):.0f} MiB"
        )


async def lateness_round(work: Path, count: int) -> tuple[float, float, float]:
    receiver = Receiver()
    listener = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    data = work / f"lateness-{time.monotonic_ns()}"
    token, agent_id, webhook_id = await seed(
        data, f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/hook", 0, 0
    )
    port = free_port()
    config = write_config(work / "lateness.toml", synchronous="normal", time_scale=3600)
    with process(novaro("serve", "--port", str(port), "--config", str(config), "--data-dir", str(data))):
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            numbers = iter(range(count))

            async def post() -> list[str]:
                created = []
                for n in numbers:
                    body = {
                        "agentId": agent_id,
                        "webhookId": webhook_id,
                        "conversationId": f"user-{n}",
                        "reference": f"l{n}",
                        "window": {"after": 0, "before": 86400},
                        "messages": [{"role": "user", "content": "Exam tomorrow"}],
                    }
                    answer = await client.post("/api/v1/check-ins", json=body)
                    assert answer.status_code == 201, answer.text
                    created.append(answer.json()["id"])
                return created

            ids = [check_in for batch in await asyncio.gather(*(post() for _ in range(8))) for check_in in batch]
        await receiver.wait_for(count, timeout=24 * 3 + 120)
    listener.close()
    async with Storage.open(data / "novaro.db", time.time) as storage:
        drawn = {check_in: (await storage.check_ins.get(ACCOUNT, check_in)).arrive_at for check_in in ids}
    assert receiver.repeats == 0, f"{receiver.repeats} check-ins arrived twice"
    return lateness_ms(receiver, {check_in: at for check_in, at in drawn.items() if at is not None})


async def bench_lateness(work: Path, count: int, rounds: int) -> None:
    figures = [await lateness_round(work, count) for _ in range(rounds)]
    p50, p99, worst = (statistics.median(figure[i] for figure in figures) for i in range(3))
    print(
        f"  lateness, {count:,} check-ins drawn over 24 model hours (24 s): p50 {p50:.0f} ms, p99 {p99:.0f} ms,"
        f" max {worst:.0f} ms (rounds: {'; '.join(f'{f[0]:.0f}/{f[1]:.0f}' for f in figures)} ms p50/p99)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="pending check-ins, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=15, help="claims timed per size")
    parser.add_argument("--lateness", type=int, default=600, help="check-ins per lateness round")
    parser.add_argument("--only", choices=("claim", "start", "lateness"))
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    print(f"check-in benchmark; load average {load_average()}")
    with tempfile.TemporaryDirectory(prefix="novaro-checkin-bench-") as work:
        if options.only in (None, "claim"):
            await bench_claims(sizes, options.runs)
        if options.only in (None, "start"):
            await bench_start(Path(work), max(sizes), options.rounds)
        if options.only in (None, "lateness"):
            await bench_lateness(Path(work), options.lateness, options.rounds)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
