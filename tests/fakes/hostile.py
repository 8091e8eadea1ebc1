"""Upstreams that misbehave on purpose: one that drips a byte now and then forever, one that answers a
gzip bomb (a small body that inflates to hundreds of MiB)."""

from __future__ import annotations

import asyncio
import functools
import zlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

DRIP_SECONDS = 0.2
BOMB_INFLATED_MIB = 400


@functools.cache
def gzip_bomb() -> bytes:
    """BOMB_INFLATED_MIB MiB of zeros, gzip-compressed (about 400 KiB), built without holding them whole."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1024 * 1024)
    return b"".join(compressor.compress(zeros) for _ in range(BOMB_INFLATED_MIB)) + compressor.flush()


async def drip(request: Request) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        while True:
            yield b" "  # whitespace: a JSON or SSE parser keeps waiting for more
            await asyncio.sleep(DRIP_SECONDS)

    return StreamingResponse(body(), media_type="application/json")


async def bomb(request: Request) -> Response:
    await request.body()
    return Response(gzip_bomb(), headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})


def hostile_app() -> Starlette:
    """POST /drip/... drips forever (any provider path below it); POST /bomb answers the gzip bomb."""
    return Starlette(
        routes=[Route("/drip/{path:path}", drip, methods=["POST"]), Route("/bomb", bomb, methods=["POST"])]
    )
