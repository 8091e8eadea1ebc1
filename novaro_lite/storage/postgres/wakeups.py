"""Wake-ups across processes: LISTEN/NOTIFY on one channel, carrying the unix time work is due.

A process that accepts a request (or makes one due again) announces its due time; every process listening
on the database, itself included, moves its next dispatch that early if it is sooner. Announcements are
coalesced: while one NOTIFY is on its way, later ones only lower the time it carries, so a burst of accepted
requests costs a few NOTIFYs, not one each. A lost notification (the listening connection dropped) costs
only latency: each process's sweep still runs every [delivery] sweep_seconds, and the listener reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg

from novaro_lite.storage.postgres.settings import SERVER_SETTINGS

logger = logging.getLogger(__name__)
CHANNEL = "novaro_lite_due"
RECONNECT_SECONDS = 5.0
CHECK_SECONDS = 30.0


def _set(event: asyncio.Event, *_: Any) -> None:
    event.set()


class Wakeups:
    def __init__(self) -> None:
        self.wake: Callable[[float], None] = lambda when: None  # the scheduler's wake, once it runs
        self._pending: float | None = None  # the earliest due time waiting to be announced
        self._sender: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def listening(cls, url: str) -> AsyncIterator[Wakeups]:
        wakeups = cls()
        keeper = asyncio.create_task(wakeups._listen(url), name="listen for wake-ups")
        try:
            yield wakeups
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if wakeups._sender is not None:
                wakeups._sender.cancel()

    async def _listen(self, url: str) -> None:
        """Keep one connection listening on the channel, reconnecting whenever it fails, however it fails."""
        while True:
            try:
                await self._listen_once(url)
            except Exception as exc:  # the sweep covers for us meanwhile
                logger.warning("listening for wake-ups failed (%s); reconnecting", type(exc).__name__)
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_once(self, url: str) -> None:
        """Listen on one connection until it is lost, or stops answering a check every CHECK_SECONDS (a
        connection dropped without a word, by a network partition say, would otherwise look alive)."""
        connection = await asyncpg.connect(url, server_settings=SERVER_SETTINGS, timeout=CHECK_SECONDS)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(functools.partial(_set, lost))
            await connection.add_listener(CHANNEL, self._heard)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), CHECK_SECONDS)
                if not lost.is_set():
                    await connection.fetchval("SELECT 1", timeout=CHECK_SECONDS)
            logger.warning("the wake-up listener's connection was lost; reconnecting")
        finally:
            with contextlib.suppress(Exception):
                await connection.close(timeout=1)

    def _heard(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        try:
            when = float(payload)
        except ValueError:
            return
        if math.isfinite(when):
            self.wake(when)

    def announce(self, notify: Callable[[str, str], Awaitable[None]], when: float) -> None:
        """Send `when` on the channel through `notify(channel, payload)`, coalesced with announcements under way."""
        if not math.isfinite(when):
            return
        self._pending = when if self._pending is None else min(self._pending, when)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send(notify), name="announce due work")

    async def _send(self, notify: Callable[[str, str], Awaitable[None]]) -> None:
        while self._pending is not None:
            when, self._pending = self._pending, None
            try:
                await notify(CHANNEL, repr(when))
            except Exception as exc:  # only latency is lost: the other processes' sweeps still run
                logger.warning("announcing due work failed (%s)", type(exc).__name__)
