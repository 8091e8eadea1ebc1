"""RequestContext: a pure ASGI middleware around the whole app (500s included) that gives each request an id.

The id is the client's `X-Request-Id` when it is sane (1-128 characters of letters, digits and `-_.:`),
otherwise a fresh one; it is set in logs.REQUEST_ID for the request's log lines and returned on the
response. When the response ends, one access line is logged and the HTTP metrics are recorded, labelled
with the route template (never the raw path). A request that called an LLM provider also gets its
Server-Timing header and its overhead observed (observability/server_timing.py). Pure ASGI rather than
BaseHTTPMiddleware: no extra task or body buffering per request, so realtime throughput and streaming are
untouched.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from novaro_lite.observability.logs import ACCESS_LOGGER, REQUEST_ID, route_of
from novaro_lite.observability.metrics import Metrics
from novaro_lite.observability.server_timing import CURRENT, RequestTiming

HEADER = b"x-request-id"
SERVER_TIMING = b"server-timing"
SANE_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """Return the client's X-Request-Id when sane, else a new random id."""
    for name, value in scope["headers"]:
        if name == HEADER:
            if SANE_ID.fullmatch(value):
                return bytes(value).decode("ascii")
            break
    return uuid.uuid4().hex


class RequestContext:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.access = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        raw_id = request_id.encode("ascii")
        reset = REQUEST_ID.set(request_id)
        timing = RequestTiming()
        reset_timing = CURRENT.set(timing)
        status, began = 500, time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (HEADER, raw_id)]
                server_timing = timing.header(time.perf_counter() - began)
                if server_timing is not None:
                    headers.append((SERVER_TIMING, server_timing))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            route, method = route_of(scope), scope["method"]
            self.metrics.http_request(method, route, status, seconds)
            if timing.provider is not None:
                self.metrics.overhead(route, seconds - timing.provider)
            if self.access.isEnabledFor(logging.INFO):
                duration_ms = round(seconds * 1000, 2)
                self.access.info(
                    "%s %s %d %.2fms",
                    method,
                    route,
                    status,
                    duration_ms,
                    extra={"method": method, "route": route, "status": status, "duration_ms": duration_ms},
                )
            CURRENT.reset(reset_timing)
            REQUEST_ID.reset(reset)
