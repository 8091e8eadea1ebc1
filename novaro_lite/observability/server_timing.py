"""What a request spent waiting on LLM providers, so the response can say what novaro-lite itself added.

observability.middleware opens a RequestTiming for each HTTP request; generation.py adds each provider
call's duration to it. When the response head is sent after a provider answered (a whole realtime reply),
it carries `Server-Timing: total;dur=…, provider;dur=…` (milliseconds), and when the response ends the
difference goes into the overhead histogram of /metrics. A streamed reply is left out of both: its head
goes out before the provider has finished, and its body (the provider's stream) runs in a task of its own.

Only the task that opened the timing adds to it: a task started while the request ran (a delivery woken
by an accepted request, say) inherits the request's context, and its provider calls are not this request's.
"""

from __future__ import annotations

import asyncio
import contextvars


class RequestTiming:
    """Provider seconds of one request (None until a provider was called), owned by the request's task."""

    __slots__ = ("owner", "provider")

    def __init__(self) -> None:
        self.owner = asyncio.current_task()
        self.provider: float | None = None

    def header(self, total: float) -> bytes | None:
        """The Server-Timing value for a request `total` seconds in, or None when no provider was called."""
        if self.provider is None:
            return None
        return f"total;dur={total * 1000:.2f}, provider;dur={self.provider * 1000:.2f}".encode("ascii")


CURRENT: contextvars.ContextVar[RequestTiming | None] = contextvars.ContextVar("novaro_timing", default=None)


def add_provider_time(seconds: float) -> None:
    """Count `seconds` of a provider call against the request being handled, if this task is handling one."""
    timing = CURRENT.get()
    if timing is not None and timing.owner is asyncio.current_task():
        timing.provider = (timing.provider or 0.0) + seconds
