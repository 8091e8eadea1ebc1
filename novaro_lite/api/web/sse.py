"""Server-sent events: (name, data) pairs become a text/event-stream response; a streamed reply's items as events.

Starlette's StreamingResponse watches for the client's http.disconnect (uvicorn speaks ASGI HTTP 2.3) and
cancels the producer at once, so a reply streamed from a slow upstream stops, and closes the upstream
request, the moment its client goes away.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

from starlette.responses import StreamingResponse

from novaro_lite.api.schemas.messages import MessageOut
from novaro_lite.api.web.problems import problem_body
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.errors import AppError
from novaro_lite.generation import Delta

logger = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]


def encode(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def event_stream(events: AsyncIterator[Event]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        async for name, data in events:
            yield encode(name, data)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


def reply_event(item: Delta | ChatMessage) -> Event:
    """A streamed reply's text as it arrives (`delta`), or a finished bubble (`message`)."""
    if isinstance(item, Delta):
        return "delta", {"text": item.text}
    return "message", MessageOut.of(item).model_dump(by_alias=True)


async def started(events: AsyncGenerator[Event], what: str, opening: int = 1) -> StreamingResponse:
    """The stream of `events` once its first `opening` events are made: a failure before them (an upstream
    refusing before its first token) is raised, to be answered as a plain problem; one after, when the status
    line is sent, becomes an `error` event. `what` names the stream in the log."""
    first = [await anext(events) for _ in range(opening)]
    return event_stream(_guarded(first, events, what))


async def _guarded(first: Sequence[Event], rest: AsyncGenerator[Event], what: str) -> AsyncGenerator[Event]:
    async with contextlib.aclosing(rest):
        for event in first:
            yield event
        try:
            async for event in rest:
                yield event
        except AppError as exc:
            yield "error", problem_body(exc)
        except Exception:  # the status line is sent: the stream itself must say that it failed
            logger.exception("streamed %s failed", what)
            yield "error", problem_body(AppError("The server hit an unexpected error; it has been logged."))
