"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending one request after another.

Written on raw asyncio streams so that the generator costs far less CPU per request than the servers it
measures (an httpx client tops out near the rate we want to measure on a 2-core machine). When a response
carries `Server-Timing: total;dur=…, provider;dur=…` (novaro-lite's realtime replies), the difference, what
the server added to its provider's time, is kept beside the latency.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import statistics
import time
from urllib.parse import urlsplit

SERVER_TIMING = re.compile(rb"(?im)^server-timing:\s*total;dur=([\d.]+),\s*provider;dur=([\d.]+)")


@dataclasses.dataclass(frozen=True)
class LoadResult:
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: tuple[float, ...]
    statuses: frozenset[int]
    overheads_ms: tuple[float, ...] = ()  # Server-Timing total − provider, of the responses that had it

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)


def build_request(url: str, body: bytes | None, headers: dict[str, str]) -> tuple[str, int, bytes]:
    """Encode one request: a POST of the JSON `body`, or a GET when `body` is None."""
    parts = urlsplit(url)
    lines = [f"{'GET' if body is None else 'POST'} {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return parts.hostname or "127.0.0.1", parts.port or 80, head + (body or b"")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    """Read one response with a Content-Length: its status, head and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), head, await reader.readexactly(length)


async def run_load(
    url: str, body: bytes | None, headers: dict[str, str], *, concurrency: int, requests: int
) -> LoadResult:
    """Send `requests` requests (POST `body`, or GET if None) over `concurrency` connections."""
    host, port, raw = build_request(url, body, headers)
    per_connection = max(1, requests // concurrency)
    latencies: list[float] = []
    overheads: list[float] = []
    statuses: set[int] = set()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in range(per_connection):
                started = time.perf_counter()
                writer.write(raw)
                status, head, _ = await read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses.add(status)
                if timing := SERVER_TIMING.search(head):
                    overheads.append(float(timing[1]) - float(timing[2]))
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return LoadResult(concurrency, len(latencies), elapsed, tuple(latencies), frozenset(statuses), tuple(overheads))
