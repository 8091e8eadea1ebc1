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

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import run_load
from realtime import free_port, novaro, process, wait_until_up

from novaro_lite.domain.agents import ActiveHours, AgentFields
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.storage.store import Storage

ACCOUNT = "default"
SYNCHRONOUS = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "NORMAL").upper()  # NORMAL (the default) or FULL
MESSAGES = [ChatMessage("user", "Are we still on for Friday?")]


class Receiver:
    """A bare HTTP/1.1 server that answers 200 to every POST and notes when each delivery id arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.lower().split(b"\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length"))
                body = await reader.readexactly(length)
                self.arrivals.setdefault(json.loads(body)["id"], time.time())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    async def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


def config(work: Path, **delivery: Any) -> Path:
    path = work / "novaro.toml"
    lines = ['log_level = "warning"', f'sqlite_synchronous = "{SYNCHRONOUS.lower()}"']
    lines += ["[webhooks]", "allow_private_networks = true", "[delivery]"]
    lines += [f"{key} = {value}" for key, value in delivery.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def database_mb(data: Path) -> float:
    return sum(path.stat().st_size for path in data.iterdir()) / 2**20


async def seed(data: Path, receiver_url: str, pending: int, due: float) -> tuple[str, str, str]:
    """Create a token, an agent and a webhook, and `pending` requests due at `due`, straight into storage."""
    async with Storage.open(data / "novaro.db", time.time, synchronous=SYNCHRONOUS.lower()) as storage:
        _, token = await storage.tokens.create("bench", ACCOUNT, None)
        awake = AgentFields(name="Bench", active_hours=ActiveHours("00:00", "00:00"))  # never asleep
        agent = await storage.agents.create(ACCOUNT, awake)
        webhook = await storage.webhooks.create(ACCOUNT, receiver_url, "bench", True)
        for start in range(0, pending, 2000):
            await asyncio.gather(
                *(
                    storage.requests.create(
                        ACCOUNT,
                        agent_id=agent.id,
                        webhook_id=webhook.id,
                        reference=f"r{i}",
                        messages=MESSAGES,
                        context_ids=(),
                        due=due,
                    )  # fmt: skip
                    for i in range(start, min(start + 2000, pending))
                )
            )
        await storage.database.checkpoint()
    return token, agent.id, webhook.id


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
    token, agent_id, webhook_id = await seed(data, receiver_url, 0, 0)
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
    await seed(data, receiver_url, pending, time.time() + 30 * 86400)
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
    await seed(data, receiver_url, count, time.time() - 1)  # all due while the server is down
    port = free_port()
    cmd = novaro("serve", "--port", str(port), "--config", str(config(work)), "--data-dir", str(data))
    receiver.arrivals.clear()
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
    token, agent_id, webhook_id = await seed(data, receiver_url, 0, 0)
    port = free_port()
    # time_scale 1000 turns a delay in seconds into milliseconds, so due times can be spaced 1/per_second apart.
    cmd = novaro("serve", "--port", str(port), "--config", str(config(work, time_scale=1000)), "--data-dir", str(data))
    receiver.arrivals.clear()
    with process(cmd):
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        lead = 12.0  # every request is accepted before the first one is due
        first_due = time.time() + lead
        targets: dict[str, float] = {}
        total = per_second * seconds
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                                     limits=httpx.Limits(max_connections=32)) as client:  # fmt: skip
            semaphore = asyncio.Semaphore(32)

            async def enqueue(i: int) -> None:
                due = first_due + i / per_second
                async with semaphore:
                    delay_ms = round((due - time.time()) * 1000)
                    body = {
                        "agentId": agent_id,
                        "webhookId": webhook_id,
                        "reference": f"l{i}",
                        "delay": {"seconds": delay_ms},
                        "messages": [{"role": "user", "content": "hi"}],
                    }
                    response = await client.post("/api/v1/message-requests", json=body)
                    targets[response.json()["id"]] = due

            await asyncio.gather(*(enqueue(i) for i in range(total)))
        enqueued_by = time.time() - (first_due - lead)
        await receiver.wait_for(total, timeout=seconds + lead + 60)
    late = sorted((receiver.arrivals[rid] - due) * 1000 for rid, due in targets.items() if rid in receiver.arrivals)
    assert len(late) == total, f"only {len(late)} of {total} delivered"
    p50, p99 = statistics.median(late), late[int(0.99 * (len(late) - 1))]
    print(f"lateness, {per_second}/s due for {seconds} s ({total:,} requests, enqueued in {enqueued_by:.1f} s):"
          f" p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {late[-1]:.0f} ms")  # fmt: skip


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
