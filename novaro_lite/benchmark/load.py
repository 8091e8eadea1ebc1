"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending one request after another.

Written on raw asyncio streams so that the generator costs far less CPU per request than the servers it
measures (an httpx client tops out near the rate we want to measure on this 2-core machine).
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from urllib.parse import urlsplit


@dataclasses.dataclass(frozen=True)
class LoadResult:
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: tuple[float, ...]
    statuses: frozenset[int]

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


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def run_load(
    url: str, body: bytes | None, headers: dict[str, str], *, concurrency: int, requests: int
) -> LoadResult:
    """Send `requests` requests (POST `body`, or GET if None) over `concurrency` connections."""
    host, port, raw = build_request(url, body, headers)
    per_connection = max(1, requests // concurrency)
    latencies: list[float] = []
    statuses: set[int] = set()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in range(per_connection):
                started = time.perf_counter()
                writer.write(raw)
                statuses.add(await _read_response(reader))
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return LoadResult(concurrency, len(latencies), elapsed, tuple(latencies), frozenset(statuses))
