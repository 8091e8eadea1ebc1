"""What the queue benchmarks share: a loopback receiver, a server config, seeding, spaced or bulk enqueueing, and
what a server process and its data weigh.

Used by bench/async.py (one SQLite server) and bench/engines.py (SQLite and PostgreSQL, one or two servers).
A target is where the data lives: a data directory (SQLite, its novaro.db) or a `postgresql://` URL.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from novaro_lite.benchmark.load import LoadResult, build_request, run_load
from novaro_lite.benchmark.loopback import Receiver
from novaro_lite.domain.agents import ActiveHours, AgentFields
from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.storage.store import Storage

ACCOUNT = "default"
MESSAGES = [ChatMessage("user", "Are we still on for Friday?")]


def write_config(path: Path, *, synchronous: str, database_url: str = "", **delivery: Any) -> Path:
    """A server config: warnings only, private webhooks allowed, the given [delivery] keys."""
    lines = ['log_level = "warning"', f'sqlite_synchronous = "{synchronous.lower()}"']
    if database_url:
        lines.append(f'database_url = "{database_url}"')
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


def storage_target(target: Path | str) -> Path | str:
    return target if isinstance(target, str) else target / "novaro.db"


async def seed(
    target: Path | str, receiver_url: str, pending: int, due: float, *, synchronous: str = "normal"
) -> tuple[str, str, str]:
    """Create a token, an agent and a webhook, and `pending` requests due at `due`, straight into storage."""
    async with Storage.open(storage_target(target), time.time, synchronous=synchronous.lower()) as storage:
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
                        plan=Plan(due, due),
                    )  # fmt: skip
                    for i in range(start, min(start + 2000, pending))
                )
            )
        await storage.database.checkpoint()
    return token, agent.id, webhook.id


def request_body(agent_id: str, webhook_id: str, reference: str, delay_seconds: int) -> dict[str, Any]:
    return {
        "agentId": agent_id,
        "webhookId": webhook_id,
        "reference": reference,
        "delay": {"seconds": delay_seconds},
        "messages": [{"role": "user", "content": "Are we still on for Friday?"}],
    }


async def enqueue_load(
    base_urls: list[str], token: str, body: dict[str, Any], *, concurrency: int, requests: int
) -> tuple[float, list[LoadResult]]:
    """POST `requests` copies of `body` over `concurrency` connections split evenly across the servers.

    Returns accepted requests per second over the wall time of the whole load (all servers together).
    """
    raw, headers = json.dumps(body).encode(), {"Authorization": f"Bearer {token}"}
    share, connections = requests // len(base_urls), concurrency // len(base_urls)
    began = time.perf_counter()
    results = await asyncio.gather(
        *(
            run_load(f"{base}/api/v1/message-requests", raw, headers, concurrency=connections, requests=share)
            for base in base_urls
        )
    )
    elapsed = time.perf_counter() - began
    return sum(result.requests for result in results) / elapsed, list(results)


async def enqueue_spaced(
    base_urls: list[str], token: str, agent_id: str, webhook_id: str, *, per_second: int, total: int, lead: float
) -> tuple[dict[str, float], float]:
    """Accept `total` requests due `per_second` apart from `lead` seconds on, over 16 connections per server.

    The servers must run with time_scale 1000, so a delay in "seconds" is milliseconds. Returns each request
    id's due time and how many seconds enqueueing took (it must stay under `lead`). Raw keep-alive streams,
    as in novaro_lite/benchmark/load.py: an httpx client managed only ~100 requests/s here, which ate the lead.
    """
    first_due = time.time() + lead
    targets: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    numbers = iter(range(total))

    async def connection(base: str) -> None:
        url = f"{base}/api/v1/message-requests"
        host, port, _ = build_request(url, b"", headers)
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in numbers:
                due = first_due + i / per_second
                body = request_body(agent_id, webhook_id, f"l{i}", max(0, round((due - time.time()) * 1000)))
                writer.write(build_request(url, json.dumps(body).encode(), headers)[2])
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
                )
                answer = await reader.readexactly(length)
                assert head[9:12] == b"202", answer
                targets[json.loads(answer)["id"]] = due
        finally:
            writer.close()

    await asyncio.gather(*(connection(base) for base in base_urls for _ in range(16)))
    return targets, time.time() - (first_due - lead)


def lateness_ms(receiver: Receiver, targets: dict[str, float]) -> tuple[float, float, float]:
    """p50, p99 and max of arrival − due over `targets`, in ms; every target must have arrived."""
    late = sorted((receiver.arrivals[rid] - due) * 1000 for rid, due in targets.items() if rid in receiver.arrivals)
    assert len(late) == len(targets), f"only {len(late)} of {len(targets)} delivered"
    return statistics.median(late), late[int(0.99 * (len(late) - 1))], late[-1]
