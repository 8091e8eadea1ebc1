"""Wake-ups across processes on PostgreSQL: NOTIFY from one, heard by every other, and again after a drop."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from novaro_lite.storage.postgres import wakeups
from novaro_lite.storage.store import Storage
from tests.fakes.postgres import LocalPostgres

pytestmark = pytest.mark.anyio


async def heard_by(storage: Storage) -> asyncio.Queue[float]:
    heard: asyncio.Queue[float] = asyncio.Queue()
    storage.database.on_due(heard.put_nowait)
    return heard


async def test_a_due_time_announced_by_one_process_wakes_the_others(postgres: LocalPostgres):
    url = postgres.new_database()
    async with Storage.open(url, time.time) as one, Storage.open(url, time.time) as other:
        heard = await heard_by(other)
        await asyncio.sleep(0.2)  # the listener connects in the background
        one.database.notify_due(1_800_000_000.5)
        assert await asyncio.wait_for(heard.get(), 5) == 1_800_000_000.5


async def test_a_burst_of_announcements_is_sent_as_few_notifications_carrying_the_earliest(postgres: LocalPostgres):
    url = postgres.new_database()
    async with Storage.open(url, time.time) as one, Storage.open(url, time.time) as other:
        heard = await heard_by(other)
        await asyncio.sleep(0.2)
        for n in range(100):
            one.database.notify_due(1_800_000_100.0 - n)
        await asyncio.sleep(0.5)
        received = [heard.get_nowait() for _ in range(heard.qsize())]
        assert 1 <= len(received) <= 3, received  # the first goes at once, the other 99 ride on one more
        assert min(received) == 1_800_000_001.0


async def test_the_listener_reconnects_after_its_connection_is_killed(postgres: LocalPostgres, monkeypatch):
    monkeypatch.setattr(wakeups, "RECONNECT_SECONDS", 0.1)
    url = postgres.new_database()
    async with Storage.open(url, time.time) as one, Storage.open(url, time.time) as other:
        heard = await heard_by(other)
        await asyncio.sleep(0.2)
        admin = await asyncpg.connect(url)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
            )
        finally:
            await admin.close()
        assert killed == 2  # each process's listener
        await asyncio.sleep(1.0)
        one.database.notify_due(1_800_000_200.0)
        assert await asyncio.wait_for(heard.get(), 5) == 1_800_000_200.0
