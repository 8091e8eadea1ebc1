"""EventStream: a text/event-stream response that stops its producer the moment the client goes away."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Event = tuple[str, dict[str, Any]]


def encode(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(self, events: AsyncGenerator[Event]) -> None:
        super().__init__(headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette stops a stream only when a send fails; a slow upstream would keep running until its next
        # token. Watching for http.disconnect cancels it at once, which closes the upstream request too.
        async with anyio.create_task_group() as group:

            async def cancel_on_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(cancel_on_disconnect)
            try:
                await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
                async for name, data in self.events:
                    await send({"type": "http.response.body", "body": encode(name, data), "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                with anyio.CancelScope(shield=True):
                    await self.events.aclose()
            group.cancel_scope.cancel()
