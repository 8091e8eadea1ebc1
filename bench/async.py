"""Benchmark async message requests: enqueue rate, a million pending, delivery rate, lateness.

Run: .venv/bin/python bench/async.py [--quick] [--only enqueue|million|delivery|lateness]
Everything runs on 127.0.0.1: a real `novaro-lite serve` subprocess, and in this process the load
generator and a minimal asyncio HTTP receiver that timestamps every delivery. --quick scales every size
down by 10 for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from queue_load import database_mb, enqueue_spaced, lateness_ms, rss_mb, seed, write_config
from realtime import free_port, novaro, process, wait_until_up

from novaro_lite.benchmark.load import run_load
from novaro_lite.benchmark.loopback import Receiver

SYNCHRONOUS = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "NORMAL").upper()  # NORMAL (the default) or FULL


def config(work: Path, **delivery: Any) -> Path:
    return write_config(work / "novaro.toml", synchronous=SYNCHRONOUS, **delivery)


def raw_single_row_inserts(path: Path, rows: int, run: int) -> float:
    """The physical limit: one INSERT + COMMIT per row with plain sqlite3, same table, same settings."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")  # as the server
    columns = (
        "id, account, agent_id, webhook_id, reference, status, due_ms, scheduled_for, messages, created_at, updated_at"
    )
    began = time.perf_counter()
    for i in range(rows):
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            f"INSERT INTO message_requests ({columns})"
            " VALUES (?, 'default', 'agt', 'whk', ?, 'scheduled', ?, ?, ?, ?, ?)",
            (f"raw{run}-{i}", f"r{i}", 10**13, 10**10, '[["user","Are we still on for Friday?",null]]', 0, 0),
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - began
    db.close()
    return rows / elapsed


async def bench_enqueue(work: Path, receiver_url: str, requests: int) -> None:
    data = work / "enqueue"
    token, agent_id, webhook_id = await seed(data, receiver_url, 0, 0, synchronous=SYNCHRONOUS)
    port = free_port()
    with process(novaro("serve", "--port", str(port), "--config", str(config(work)), "--data-dir", str(data))):
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        body = json.dumps(
            {"agentId": agent_id, "webhookId": webhook_id, "reference": "r", "delay": {"seconds": 86400},
             "messages": [{"role": "user", "content": "Are we still on for Friday?"}]}
        ).encode()  # fmt: skip
        url, headers = f"http://127.0.0.1:{port}/api/v1/message-requests", {"Authorization": f"Bearer {token}"}
        await run_load(url, body, headers, concurrency=16, requests=500)  # warm-up
        rates = []
        for _ in range(3):
            result = await run_load(url, body, headers, concurrency=64, requests=requests)
            assert result.statuses == {202}, result.statuses
            rates.append(result.throughput)
    raw = [raw_single_row_inserts(data / "novaro.db", requests // 2, run) for run in range(3)]
    http, physical = statistics.median(rates), statistics.median(raw)
    print(f"enqueue, concurrency 64: HTTP {http:,.0f}/s (runs {', '.join(f'{r:,.0f}' for r in rates)});"
          f" raw single-row commits {physical:,.0f}/s; ratio {http / physical:.2f}")  # fmt: skip


async def bench_million(work: Path, receiver_url: str, pending: int) -> None:
    data = work / "million"
    began = time.perf_counter()
    await seed(data, receiver_url, pending, time.time() + 30 * 86400, synchronous=SYNCHRONOUS)
    print(f"{pending:,} pending: seeded in {time.perf_counter() - began:.0f} s; database {database_mb(data):,.0f} MiB")
    port = free_port()
    cmd = novaro("serve", "--port", str(port), "--config", str(config(work)), "--data-dir", str(data))
    for run in range(3):
        started = time.perf_counter()
        with process(cmd) as server:
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            ready = time.perf_counter() - started
            await asyncio.sleep(1)  # let the first dispatch and its next_due query run
            print(f"  run {run + 1}: start to serving {ready:.2f} s; RSS {rss_mb(server.pid):.0f} MiB")


async def bench_delivery_rate(work: Path, receiver: Receiver, receiver_url: str, count: int) -> None:
    data = work / "burst"
    await seed(data, receiver_url, count, time.time() - 1, synchronous=SYNCHRONOUS)  # all due before the server starts
    port = free_port()
    cmd = novaro("serve", "--port", str(port), "--config", str(config(work)), "--data-dir", str(data))
    receiver.clear()
    started = time.time()
    with process(cmd):
        await receiver.wait_for(count, timeout=300)
    times = sorted(receiver.arrivals.values())
    assert len(times) == count, f"only {len(times)} of {count} delivered"
    print(
        f"{count:,} due at start: all delivered {times[-1] - started:.1f} s after launch;"
        f" {count / (times[-1] - times[0]):,.0f} deliveries/s from first to last"
    )


async def bench_lateness(work: Path, receiver: Receiver, receiver_url: str, per_second: int, seconds: int) -> None:
    data = work / "lateness"
    token, agent_id, webhook_id = await seed(data, receiver_url, 0, 0, synchronous=SYNCHRONOUS)
    port = free_port()
    # time_scale 1000 turns a delay in seconds into milliseconds, so due times can be spaced 1/per_second apart.
    cmd = novaro("serve", "--port", str(port), "--config", str(config(work, time_scale=1000)), "--data-dir", str(data))
    receiver.clear()
    with process(cmd):
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        lead, total = 12.0, per_second * seconds  # every request is accepted before the first one is due
        targets, enqueued_by = await enqueue_spaced(
            [f"http://127.0.0.1:{port}"], token, agent_id, webhook_id, per_second=per_second, total=total, lead=lead
        )
        await receiver.wait_for(total, timeout=seconds + lead + 60)
    p50, p99, worst = lateness_ms(receiver, targets)
    print(f"lateness, {per_second}/s due for {seconds} s ({total:,} requests, enqueued in {enqueued_by:.1f} s):"
          f" p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {worst:.0f} ms")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of every size, for a smoke run")
    parser.add_argument("--only", choices=("enqueue", "million", "delivery", "lateness"))
    options = parser.parse_args()
    scale = 10 if options.quick else 1
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
    work = Path(tempfile.mkdtemp(prefix="novaro-async-bench-"))
    print(f"async delivery benchmark ({os.cpu_count()} cores, scale 1/{scale}, sqlite synchronous {SYNCHRONOUS})")
    if options.only in (None, "enqueue"):
        await bench_enqueue(work, receiver_url, 10_000 // scale)
    if options.only in (None, "million"):
        await bench_million(work, receiver_url, 1_000_000 // scale)
    if options.only in (None, "delivery"):
        await bench_delivery_rate(work, receiver, receiver_url, 10_000 // scale)
    if options.only in (None, "lateness"):
        await bench_lateness(work, receiver, receiver_url, 200, 60 // scale)
    server.close()
    await server.wait_closed()
    subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    asyncio.run(main())
