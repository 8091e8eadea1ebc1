"""The peers a benchmark puts beside the server on loopback: a zero-latency OpenAI-compatible upstream and a
webhook receiver that notes when each delivery arrived.

Both are bare HTTP/1.1 on asyncio streams (keep-alive, Content-Length bodies only, which is what
novaro-lite's outbound client sends), so they cost little CPU beside the server they measure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

REPLY = json.dumps(
    {
        "id": "bench",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure!\n\nSee you at eight."}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 8, "total_tokens": 58},
    }
).encode()
UPSTREAM_ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(REPLY) + REPLY
)
RECEIVED = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]


async def _bodies(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """Each request's body on a keep-alive connection, until the peer closes it."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        length = 0
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line[15:])
        yield await reader.readexactly(length)


async def fake_upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request at once with the same chat completion."""
    try:
        async for _ in _bodies(reader):
            writer.write(UPSTREAM_ANSWER)
    except asyncio.CancelledError:  # the run is over; asyncio would log a cancelled handler as an error
        pass
    finally:
        writer.close()


class Receiver:
    """Answers 200 to every delivery and notes when each request id first arrived (time.time())."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.repeats = 0  # deliveries of an id that had already arrived

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async for body in _bodies(reader):
                delivery_id = json.loads(body)["id"]
                if delivery_id in self.arrivals:
                    self.repeats += 1
                else:
                    self.arrivals[delivery_id] = time.time()
                writer.write(RECEIVED)
        except asyncio.CancelledError:  # as in fake_upstream
            pass
        finally:
            writer.close()

    def clear(self) -> None:
        self.arrivals.clear()
        self.repeats = 0

    async def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def listening(handler: Handler, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve `handler` on a free loopback port for the block; yield its base URL."""
    server = await asyncio.start_server(handler, host, 0)
    try:
        yield f"http://{host}:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 1)
