"""Server-sent events: (name, data) pairs become a text/event-stream response.

Starlette's StreamingResponse watches for the client's http.disconnect (uvicorn speaks ASGI HTTP 2.3) and
cancels the producer at once, so a reply streamed from a slow upstream stops, and closes the upstream
request, the moment its client goes away.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

Event = tuple[str, dict[str, Any]]


def encode(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def event_stream(events: AsyncIterator[Event]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        async for name, data in events:
            yield encode(name, data)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)
