"""A zero-latency OpenAI-compatible chat completions server for benchmarks, in a process of its own.

Run: python bench/fake_llm.py PORT
The same fake upstream `novaro-lite bench` runs in its own process (novaro_lite/benchmark/loopback.py).
"""

from __future__ import annotations

import asyncio
import sys

from novaro_lite.benchmark.loopback import fake_upstream


async def serve(port: int) -> None:
    server = await asyncio.start_server(fake_upstream, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
