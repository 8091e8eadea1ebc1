"""A timeout that a frozen process or a stalled event loop does not turn into the peer's fault.

`asyncio.timeout` measures the monotonic clock, which keeps going while the process is stopped (SIGSTOP, a
VM paused, a debugger) or while the event loop is blocked. When the process runs again, the expired timer
and the answer that arrived meanwhile are handled in the same loop iteration, and the timer wins: a
receiver that answered in milliseconds is recorded as "did not answer in time", and the delivery it had
already accepted is sent again. So when the deadline timer fires late (the loop was not running when it
was due), the call gets a short grace to read what the network already delivered; only a timer that fires
on time ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

STALL_SECONDS = 0.5  # a timer this late means the loop was not running when it fell due
GRACE_SECONDS = 1.0  # then this long to read what arrived meanwhile (bytes waiting in the socket take far less)


@contextlib.asynccontextmanager
async def running_timeout(seconds: float) -> AsyncIterator[None]:
    """Like `asyncio.timeout(seconds)` (raises TimeoutError), but a deadline reached while the loop was not
    running is pushed back by GRACE_SECONDS of running time, again as long as the loop keeps stalling."""
    loop = asyncio.get_running_loop()
    handle: asyncio.TimerHandle
    async with asyncio.timeout(None) as timeout:

        def check(due: float) -> None:
            nonlocal handle
            now = loop.time()
            if now - due > STALL_SECONDS:
                handle = loop.call_at(now + GRACE_SECONDS, check, now + GRACE_SECONDS)
            else:
                timeout.reschedule(now)  # expires in this iteration

        due = loop.time() + seconds
        handle = loop.call_at(due, check, due)
        try:
            yield
        finally:
            handle.cancel()
