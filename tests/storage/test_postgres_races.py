"""Interleavings only PostgreSQL allows (SQLite's write transactions exclude each other), forced step by step."""

from __future__ import annotations

import asyncio
import itertools
import math
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import Attempt
from novaro_lite.errors import UnavailableError
from novaro_lite.storage.postgres import database, settings
from novaro_lite.storage.postgres.database import _Connection
from novaro_lite.storage.store import Storage
from tests.fakes.postgres import LocalPostgres
from tests.storage.test_postgres_batches import CLAIM_LOCK

pytestmark = pytest.mark.anyio
NOW = time.time()


@pytest.fixture
async def world(postgres: LocalPostgres) -> AsyncIterator[tuple[str, Storage, str, str]]:
    url = postgres.new_database()
    async with Storage.open(url, lambda: NOW) as storage:
        hook = await storage.webhooks.create("acme", "https://a.example/hook", "", True)
        request_id = await storage.requests.create(
            "acme", agent_id="agt_1", webhook_id=hook.id, reference="r", messages=[ChatMessage("user", "hi")],
            context_ids=(), plan=Plan(NOW - 1, NOW - 1), accepted=lambda request: request.id, conversation_id="chat",
        )  # fmt: skip
        yield url, storage, hook.id, request_id


async def test_a_pause_recorded_while_the_webhook_is_being_enabled_does_not_park_the_request(world):
    url, storage, hook_id, request_id = world
    (claimed,) = await storage.queue.claim(
        now=NOW, lease_seconds=300, limit=1, per_webhook=8, in_flight={}, working=(), owner="one"
    )
    await storage.webhooks.disable(hook_id, "by a test")  # the delivery then finds it disabled ...
    enabling = await asyncpg.connect(url)  # ... while its owner enables it again, as WebhookStore.update does
    try:
        async with enabling.transaction():
            await enabling.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"webhook:{hook_id}")
            await enabling.execute("UPDATE webhooks SET enabled = TRUE WHERE id = $1", hook_id)
            await enabling.execute(
                "UPDATE message_requests SET status = 'scheduled' WHERE webhook_id = $1 AND status = 'paused'", hook_id
            )
            pausing = asyncio.create_task(storage.queue.finish_attempt(claimed.id, "one", None, "paused", counter=None))
            await asyncio.sleep(0.3)
            assert not pausing.done()  # it waits for the enable, rather than decide on what it saw before it
        await pausing
    finally:
        await enabling.close()
    assert (await storage.requests.get("acme", request_id)).status == "scheduled"


async def test_an_attempt_whose_lease_is_taken_over_meanwhile_records_nothing(world):
    """The attempt's row is written only under the lease, checked on the row locked (FOR UPDATE): a claim that
    takes the request over while the attempt is being recorded leaves no attempt logged for a lease lost."""
    url, storage, hook_id, request_id = world
    (claimed,) = await storage.queue.claim(
        now=NOW, lease_seconds=300, limit=1, per_webhook=8, in_flight={}, working=(), owner="one"
    )
    taking = await asyncpg.connect(url)  # another process, whose claim holds the row as the attempt is recorded
    try:
        async with taking.transaction():
            await taking.execute("UPDATE message_requests SET lease_owner = 'other' WHERE id = $1", request_id)
            attempt = Attempt(int(NOW), 200, 5, None, "ok")
            recording = asyncio.create_task(storage.queue.finish_attempt(claimed.id, "one", attempt, "delivered"))
            await asyncio.sleep(0.3)
            assert not recording.done()  # it waits for the claim, rather than decide on what it saw before it
        assert await recording is False
    finally:
        await taking.close()
    assert await storage.database.read("SELECT * FROM delivery_attempts", ()) == []


async def test_a_request_being_claimed_elsewhere_is_not_superseded_or_planned_around_stale(world):
    url, storage, hook_id, first_id = world
    claiming = await asyncpg.connect(url)  # another process's claim, holding the row it takes
    try:
        async with claiming.transaction():
            await claiming.execute(
                "UPDATE message_requests SET status = 'generating', lease_owner = 'other' WHERE id = $1", first_id
            )
            seen: list[list[float]] = []

            def replan(unread: list[Plan], busy_until: float | None) -> Plan:
                seen.append([plan.read_at for plan in unread])
                return Plan(NOW + 60, NOW + 60)

            second = asyncio.create_task(
                storage.requests.create(
                    "acme",
                    agent_id="agt_1",
                    webhook_id=hook_id,
                    reference="r2",
                    messages=[ChatMessage("user", "2")],
                    context_ids=(),
                    plan=Plan(NOW, NOW),
                    accepted=lambda request: request.id,
                    conversation_id="chat",
                    replan=replan,
                )  # fmt: skip
            )
            await asyncio.sleep(0.3)
            assert not second.done()  # it waits to see what the claim did with the row
        await second
    finally:
        await claiming.close()
    assert seen == [[]]  # the first request was taken, not unread: nothing to supersede
    assert (await storage.requests.get("acme", first_id)).status == "generating"


class Stopping(_Connection):
    """A connection of ours that stops sending after `Stopping.sends` more writes, as if its process had
    been stopped (SIGSTOP, a paused VM) right then: PostgreSQL has what was sent, and hears nothing more."""

    sends: int | None = None  # writes still allowed, counted over every connection; None: no limit
    withheld = 0  # writes held back since the limit was reached
    made: list[Stopping] = []

    def __init__(self, protocol: Any, transport: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(protocol, transport, *args, **kwargs)
        Stopping.made.append(self)
        write = transport.write

        def stoppable(data: bytes) -> None:
            if Stopping.sends is None or Stopping.sends > 0:
                Stopping.sends = None if Stopping.sends is None else Stopping.sends - 1
                write(data)
            else:
                Stopping.withheld += 1

        transport.write = stoppable


async def seconds_to_take_the_claim_lock(url: str) -> float:
    """How long another process waits for the claim lock (at most settings.LOCK_WAIT, then it fails)."""
    other = await asyncpg.connect(url, server_settings=settings.SERVER_SETTINGS)
    started = time.monotonic()
    try:
        async with other.transaction():
            await other.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", CLAIM_LOCK)
        return time.monotonic() - started
    except asyncpg.LockNotAvailableError:
        return math.inf
    finally:
        await other.close()


async def test_a_process_stopped_anywhere_in_a_claim_holds_the_claim_lock_only_briefly(postgres, monkeypatch):
    """The claim lock every claim waits for is never held while a stopped claim's process stays stopped.

    The claim is stopped after each of its writes in turn. Once, one point held the lock for as long as the
    process stayed stopped: asyncpg had sent the claim statement's Parse/Describe (its first use on the
    connection) with no Sync, which PostgreSQL counts as active, not idle in transaction. The claim is now one
    call that takes the lock on the server (storage/postgres/claims.py)."""
    monkeypatch.setattr(database, "_Connection", Stopping)
    url = postgres.new_database()
    async with Storage.open(url, time.time, pool_size=1) as storage:
        hook = await storage.webhooks.create("acme", "https://a.example/hook", "", True)
        for stop_after in itertools.count(1):
            await storage.requests.create(
                "acme", agent_id="agt_1", webhook_id=hook.id, reference="r", messages=[ChatMessage("user", "hi")],
                context_ids=(), plan=Plan(NOW - 1, NOW - 1), accepted=lambda request: request.id,
            )  # fmt: skip
            Stopping.sends, Stopping.withheld = stop_after, 0
            claiming = asyncio.create_task(
                storage.queue.claim(now=time.time(), lease_seconds=300, limit=1, per_webhook=8, in_flight={},
                                    working=(), owner="stopped")
            )  # fmt: skip
            while not claiming.done() and not Stopping.withheld:
                await asyncio.sleep(0.01)
            Stopping.sends = None
            if claiming.done():  # it needed no more writes than that: every point was tried
                break
            waited = await seconds_to_take_the_claim_lock(url)
            assert waited < 5, f"stopped after write {stop_after}, the claim held the lock {waited:.1f} s"
            for stopped in Stopping.made:  # the stopped process dies: its claim fails, its connection closes
                stopped.terminate()
            Stopping.made.clear()
            with pytest.raises(UnavailableError):
                await claiming
        assert stop_after > 1  # the claim was stopped before its call was whole, and after


async def test_closing_a_connection_whose_server_is_gone_does_not_raise(postgres: LocalPostgres):
    """asyncpg's pool closes the connections `expire_connections` retired in tasks nobody awaits: a close that
    raised there (PostgreSQL stopped: a broken pipe) was logged as a traceback during every outage."""
    url = postgres.new_database()
    for connection_class, raised in ((asyncpg.Connection, BrokenPipeError), (_Connection, None)):
        connection = await asyncpg.connect(url, connection_class=connection_class)
        connection._transport.get_extra_info("socket").shutdown(socket.SHUT_WR)  # writes now fail: EPIPE
        try:
            await connection.close(timeout=1)
        except Exception as exc:
            assert type(exc) is raised
        else:
            assert raised is None
        assert connection.is_closed()
