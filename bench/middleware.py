"""Benchmark: the cost per request of observability.middleware.RequestContext, in-process, without sockets.

Calls a bare ASGI app that answers 200 directly and through RequestContext (metrics off, then on; the
access log at INFO to a discarding handler, as `serve` writes it), alternating, and prints medians of
microseconds per request. Run: .venv/bin/python bench/middleware.py [--rounds 5] [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from typing import Any

from novaro_lite.observability.logs import RequestIdFilter
from novaro_lite.observability.metrics import Metrics
from novaro_lite.observability.middleware import RequestContext

SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "POST",
    "path": "/api/v1/messages",
    "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"authorization", b"Bearer x")],
}


async def bare(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Any) -> None:
    return None


async def per_request(app: Any, requests: int) -> float:
    began = time.perf_counter()
    for _ in range(requests):
        await app(dict(SCOPE), receive, send)
    return (time.perf_counter() - began) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20000)
    options = parser.parse_args()
    handler = logging.NullHandler()
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    apps = {
        "bare app": bare,
        "RequestContext, metrics off": RequestContext(bare, metrics=Metrics(enabled=False)),
        "RequestContext, metrics on": RequestContext(bare, metrics=Metrics(enabled=True)),
    }
    results: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(options.rounds):
        for name, app in apps.items():
            results[name].append(asyncio.run(per_request(app, options.requests)))
    base = statistics.median(results["bare app"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:>30}: {median:7.2f} µs/request  (+{median - base:.2f} µs)")


if __name__ == "__main__":
    main()
