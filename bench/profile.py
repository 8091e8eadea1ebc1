"""Where a live server spends its CPU: py-spy samples `novaro-lite serve` while it takes one kind of load.

Run: .venv/bin/python bench/profile.py realtime|openai|enqueue|delivery [--seconds 10] [--top 30]
    [--processes 2] [--idle --native]
(py-spy from PyPI: `.venv/bin/pip install py-spy`; sampling another process needs root or ptrace rights.)
One server from this checkout (log level warning, the fake upstream of novaro_lite/benchmark as its
provider, a loopback receiver for webhooks), then:
- realtime / openai: POST /api/v1/messages or /v1/chat/completions over 16 connections;
- enqueue: POST /api/v1/message-requests over 64 connections, due a day later;
- delivery: a backlog accepted with a delay, sampled while it drains (a reply generated through the fake
  upstream, stored, signed and POSTed to the receiver, per request).
--processes 2 runs two servers on one data directory (as `serve` twice on one SQLite file); the load is
split over them and the first is sampled. --idle keeps the samples of threads that wait (in a sleep or a
lock) and --native adds C frames (pausing the server for each of 100 samples a second): together they
show where a thread waits, e.g. in SQLite's busy handler.
py-spy samples the server at 250 Hz without pausing it (--nonblocking), idle samples left out. Prints
the functions with the most samples on their own (self) and the package's and libraries' frames that
most samples pass through (inclusive), as percentages of the samples.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from novaro_lite.benchmark.load import run_load
from novaro_lite.benchmark.loopback import Receiver, fake_upstream, listening

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtime import free_port, novaro, wait_until_up

PY_SPY = Path(sys.executable).parent / "py-spy"
# The groups of docs/benchmarks.md: a sample counts for the group of its deepest frame that names one.
GROUPS = (
    ("upstream call: httpx's API layer", ("AsyncClient.send", "BaseClient.build_request", "AsyncClient._send")),
    ("upstream call: aiohttp transport", ("AiohttpTransport.handle_async_request",)),
    ("upstream call: aiohttp", ("AiohttpUpstream.post",)),
    ("upstream call: reading the answer", ("read_json",)),
    ("upstream call: other", ("OpenAIProvider.complete",)),
    ("signed webhook POST", ("WebhookSender.post",)),
    ("token lookup", ("authenticate",)),
    ("agent lookup", ("AgentStore.get",)),
    ("webhook lookup", ("WebhookStore.get",)),
    ("contexts lookup", ("ContextStore.get_many", "require_contexts")),
    ("persona prompt", ("build_system_prompt", "_prompt")),
    ("request body (pydantic)", ("read_body",)),
    ("response JSON", ("json_response", "model_dump_json")),
    ("storing the request: row, response JSON, group commit", ("RequestStore.create",)),
    ("claim", ("DeliveryQueue.claim",)),
    ("delivery bookkeeping (group commit)", ("GroupCommit._flush", "DeliveryQueue.store_reply")),
    ("delivery attempt, other", ("attempt (attempt.py", "Dispatcher._deliver")),
    ("handler, other", ("create_message", "create_request", "chat_completions")),
    ("middleware: request id, access line, metrics, timing", ("RequestContext.__call__",)),
    ("uvicorn + Starlette: parse, route, write", ("run_asgi", "httptools_impl", "http_server.py", "routing.py")),
    ("aiosqlite's writer thread", ("_connection_worker_thread",)),
)


def group_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in GROUPS:
            if any(marker in frame for marker in markers):
                return name
    return "event loop, other"


PROMPT = [{"role": "user", "content": "Dinner at 8?"}]


def summarize(collapsed: Path, top: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    through: collections.Counter[str] = collections.Counter()
    groups: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        groups[group_of(stack.split(";"))] += count
        frames = [frame.split(" (")[0] + " (" + frame.split(" (")[-1].split("/")[-1] for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            through[frame] += count
    print(f"{total} samples\n\ngroups:")
    for name, count in groups.most_common():
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\nself (on CPU in the function itself):")
    for frame, count in own.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {frame}")
    print("\ninclusive (the function or what it called):")
    for frame, count in through.most_common(top * 3)[:top]:
        print(f"  {100 * count / total:5.1f}%  {frame}")


async def load(
    urls: list[str], path: str, raw: bytes, headers: dict[str, str], concurrency: int, requests: int
) -> None:
    """The load split evenly over the servers."""
    share, connections = requests // len(urls), max(1, concurrency // len(urls))
    await asyncio.gather(
        *(run_load(f"{url}{path}", raw, headers, concurrency=connections, requests=share) for url in urls)
    )


async def drive(
    kind: str, urls: list[str], headers: dict[str, str], agent: str, webhook: str, seconds: float, record: list[str]
) -> None:
    async def sampled() -> None:
        process = await asyncio.create_subprocess_exec(*record)
        await process.wait()

    if kind in ("realtime", "openai"):
        path, body = ("/api/v1/messages", {"agentId": agent, "messages": PROMPT})
        if kind == "openai":
            path, body = "/v1/chat/completions", {"model": agent, "messages": PROMPT}
        raw = json.dumps(body).encode()
        await load(urls, path, raw, headers, 16, 500)  # warm-up
        sampling = asyncio.create_task(sampled())
        while not sampling.done():
            await load(urls, path, raw, headers, 16, 1600)
        return
    request = {"agentId": agent, "webhookId": webhook, "reference": "p", "messages": PROMPT}
    target = "/api/v1/message-requests"
    if kind == "enqueue":
        raw = json.dumps(request | {"delay": {"seconds": 86400}}).encode()
        await load(urls, target, raw, headers, 16, 500)
        sampling = asyncio.create_task(sampled())
        while not sampling.done():
            await load(urls, target, raw, headers, 64, 3200)
        return
    backlog = int(seconds * 1500)  # more than one process delivers in that time
    raw = json.dumps(request | {"delay": {"seconds": 20}}).encode()
    began = time.monotonic()
    await load(urls, target, raw, headers, 64, backlog)
    await asyncio.sleep(max(0.0, began + 20.5 - time.monotonic()))
    await sampled()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("realtime", "openai", "enqueue", "delivery"))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--idle", action="store_true", help="keep the samples of waiting threads")
    parser.add_argument("--native", action="store_true", help="add C frames")
    options = parser.parse_args()
    receiver = Receiver()
    work = Path(tempfile.mkdtemp(prefix="novaro-profile-"))
    async with listening(fake_upstream) as upstream, listening(receiver.handle) as receiver_url:
        config = work / "novaro.toml"
        config.write_text(
            'log_level = "warning"\n[defaults]\nprovider = "fake"\n'
            f'[providers.fake]\nkind = "openai"\nbase_url = "{upstream}/v1"\nmodel = "bench"\n'
            "[webhooks]\nallow_private_networks = true\n"
        )
        data = ["--config", str(config), "--data-dir", str(work / "data")]
        token = subprocess.run(
            novaro("token", "create", "--name", "p", *data), capture_output=True, text=True, check=True
        ).stdout.strip()
        ports = [free_port() for _ in range(options.processes)]
        servers = [
            subprocess.Popen(novaro("serve", "--port", str(port), *data), stderr=(work / f"log{port}").open("wb"))
            for port in ports
        ]
        server = servers[0]
        try:
            urls, headers = [f"http://127.0.0.1:{port}" for port in ports], {"Authorization": f"Bearer {token}"}
            for url in urls:
                await asyncio.to_thread(wait_until_up, f"{url}/healthz")
            url = urls[0]
            async with httpx.AsyncClient(base_url=url, headers=headers) as client:
                agent = (
                    await client.post(
                        "/api/v1/agents", json={"name": "P", "activeHours": {"start": "00:00", "end": "00:00"}}
                    )
                ).json()["id"]
                webhook = (await client.post("/api/v1/webhooks", json={"url": f"{receiver_url}/h"})).json()["id"]
            collapsed = work / "collapsed.txt"
            record = [
                str(PY_SPY),
                "record",
                "--pid",
                str(server.pid),
                "--duration",
                str(int(options.seconds)),
                "--rate",
                "250",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(collapsed),
            ]
            record += ["--idle"] * options.idle
            if options.native:  # py-spy reads C stacks only from a paused process: fewer samples, each a pause
                record[record.index("--nonblocking")] = "--native"
                record[record.index("250")] = "100"
            await drive(options.kind, urls, headers, agent, webhook, options.seconds, record)
        finally:
            for each in servers:
                each.terminate()
            for each in servers:
                each.wait(30)
    summarize(collapsed, options.top)


if __name__ == "__main__":
    asyncio.run(main())
