"""GET /api/v1/playground/events: the account's playground receiver as server-sent events for an open page.

Each delivery to a webhook with the playground URL (outbound/playground.py) arrives here as one event named
by what it carries (`message.reply`, `message.check_in`, or the event's own `type`), with the body as sent, signed
headers aside. `open` starts the stream, `keepalive` follows every KEEPALIVE_SECONDS, and after
STREAM_SECONDS (or when the page falls behind) `closed` ends it; the page connects again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from types import MappingProxyType
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.web.deps import caller, services
from novaro_lite.api.web.operation import Operation
from novaro_lite.api.web.sse import Event, event_stream
from novaro_lite.errors import ConflictError
from novaro_lite.outbound.playground import KEEPALIVE_SECONDS, STREAM_SECONDS, Playground, PlaygroundBusyError

EVENTS = {
    "type": "object",
    "description": "Server-sent events: `open` {listening} once subscribed; then each delivery to the account's"
    " playground webhooks as it happens: `message.reply` {id, agentId, reference, messages, secret},"
    " `message.read` and `agent.typing` (as the webhooks section describes them), a test ping as a"
    " `message.reply` without messages; `keepalive` {} now and then; `closed` {reason} before the stream ends.",
    "properties": {
        "event": {
            "enum": ["open", "message.reply", "message.check_in", "message.read", "agent.typing", "keepalive", "closed"]
        },
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}


# A delivery's `type` names what it carries: a reply or a check-in (events name themselves: `message.read`, …).
DELIVERY_EVENTS = MappingProxyType({"reply": "message.reply", "check_in": "message.check_in"})


def _event(body: bytes) -> Event:
    data: dict[str, Any] = json.loads(body)
    kind = str(data.get("type", "reply"))
    return DELIVERY_EVENTS.get(kind, kind), data


async def events(request: Request) -> Response:
    playground, account = services(request).playground, caller(request).account
    if (reason := playground.refusal(account)) is not None:
        raise ConflictError(reason)
    return event_stream(_follow(playground, account))


async def _follow(playground: Playground, account: str) -> AsyncIterator[Event]:
    try:
        # Left when the page goes away (Starlette cancels this) or the stream ends: the inbox goes with it.
        with playground.listen(account) as inbox:
            yield "open", {"listening": True}
            loop = asyncio.get_running_loop()
            ends = loop.time() + STREAM_SECONDS
            while (left := ends - loop.time()) > 0:
                try:
                    async with asyncio.timeout(min(left, KEEPALIVE_SECONDS)):
                        body = await inbox.get()
                except TimeoutError:
                    yield "keepalive", {}
                    continue
                if body is None:
                    yield "closed", {"reason": "This page fell behind; connect again."}
                    return
                yield _event(body)
            yield "closed", {"reason": "The stream's time is up; connect again."}
    except PlaygroundBusyError as exc:  # filled between the check and the stream's start
        yield "closed", {"reason": str(exc)}


OPERATIONS = (
    Operation(
        "GET",
        "/api/v1/playground/events",
        "playground:events",
        events,
        "Follow the playground receiver: deliveries to your playground webhooks, as server-sent events",
        "webhooks",
        events=EVENTS,
        errors=(409,),
    ),
)
