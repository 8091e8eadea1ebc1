"""The dispatch job: what it starts and when it asks to run again (no polling for held-back rows)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from novaro_lite.app import create_app
from novaro_lite.config.settings import DeliverySettings, SchedulerSettings, Settings, WebhookSettings
from novaro_lite.delivery.dispatcher import Dispatcher
from novaro_lite.delivery.scheduler import DISPATCH, MAX_TIMER_SECONDS, Scheduler, dispatch
from novaro_lite.domain.agents import AgentFields
from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.services import Services
from tests.fakes.clock import Clock

pytestmark = pytest.mark.anyio


class Recorder:
    """Stands in for the Scheduler: the real dispatcher, and every wake-up it asks for."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.dispatcher = Dispatcher(services)
        self.wakes: list[float] = []

    def wake(self, when: float) -> None:
        self.wakes.append(when)


@pytest.fixture
async def services(tmp_path: Path, database_url: str, receiver) -> AsyncIterator[Services]:
    settings = Settings(
        data_dir=tmp_path / "d",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True),
        delivery=DeliverySettings(max_in_flight_per_webhook=1),
    )
    app = create_app(settings, clock=Clock())
    async with app.router.lifespan_context(app):
        yield app.state.services


async def accept(services: Services, agent: Any, hook: Any, due: float) -> None:
    await services.storage.requests.create(
        "acme", agent_id=agent.id, webhook_id=hook.id, reference="r", messages=[ChatMessage("user", "hi")],
        context_ids=(), plan=Plan(due, due),
    )  # fmt: skip


async def test_a_row_held_back_by_a_busy_webhook_is_not_polled(services, receiver):
    receiver[1].delay = 0.5  # the first delivery stays in flight, so the webhook is at its limit of 1
    now = services.clock()
    agent = await services.storage.agents.create("acme", AgentFields(name="A"))
    hook = await services.storage.webhooks.create("acme", receiver[0], "", True)
    await accept(services, agent, hook, now - 1)
    await accept(services, agent, hook, now - 1)
    recorder = Recorder(services)
    capacity: list[float] = []
    recorder.dispatcher.on_capacity = lambda: capacity.append(now)
    await dispatch(cast(Scheduler, recorder))
    assert recorder.dispatcher.in_flight == 1
    # The held-back row waits for the slot, which wakes the dispatcher; the only wake-up asked for is the
    # in-flight row's lease expiry (not "now", which spun: 56 claims in 250 ms).
    lease_expiry = pytest.approx(now + services.settings.delivery.lease_seconds, abs=0.01)
    assert recorder.wakes == [lease_expiry]
    await accept(services, agent, hook, now + 60)
    await dispatch(cast(Scheduler, recorder))
    assert recorder.wakes == [lease_expiry, pytest.approx(now + 60, abs=0.01)]
    await recorder.dispatcher.wait_idle()
    assert capacity == [now]  # the finished delivery asks for the next dispatch
    await dispatch(cast(Scheduler, recorder), True)  # as on_capacity asks: it looks, finds the held-back row
    await recorder.dispatcher.wait_idle()
    assert len(receiver[1].deliveries) == 2


async def test_a_freed_slot_with_nothing_due_costs_no_claim(services, receiver, monkeypatch):
    """A delivery that ends asks for a dispatch (something may be held back for its slot); when nothing is due,
    that run reads and claims nothing: a claim is a write transaction (on PostgreSQL, under the claim lock
    every server takes)."""
    now = services.clock()
    agent = await services.storage.agents.create("acme", AgentFields(name="A"))
    hook = await services.storage.webhooks.create("acme", receiver[0], "", True)
    await accept(services, agent, hook, now - 1)
    await accept(services, agent, hook, now + 60)
    recorder = Recorder(services)
    claims: list[int] = []
    claim = services.storage.queue.claim

    async def counted(**kwargs: Any) -> Any:
        claims.append(kwargs["limit"])
        return await claim(**kwargs)

    monkeypatch.setattr(services.storage.queue, "claim", counted)
    await dispatch(cast(Scheduler, recorder))
    await recorder.dispatcher.wait_idle()
    assert len(claims) == 1 and len(receiver[1].deliveries) == 1
    recorder.wakes.clear()
    await dispatch(cast(Scheduler, recorder), True)
    assert len(claims) == 1  # nothing due: no claim
    assert recorder.wakes == [pytest.approx(now + 60, abs=0.01)]  # the next due time is still set
    services.clock.now += 61
    await dispatch(cast(Scheduler, recorder), True)  # now the second is due: the look finds it
    await recorder.dispatcher.wait_idle()
    assert len(claims) == 2 and len(receiver[1].deliveries) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("poison", [1e20, 10**14, float("inf"), float("nan"), -1e20, float("-inf")])
async def test_no_due_time_can_poison_the_scheduler(services, poison, caplog):
    scheduler = Scheduler(services)
    scheduler.start()
    try:
        now = services.clock()
        # A row as an older version could store it (10**14 s is the year 3.17 million), then a wake for it.
        await services.storage.database.write(
            (
                "INSERT INTO message_requests (id, account, agent_id, webhook_id, reference, status, due_ms,"
                " scheduled_for, created_at, updated_at) VALUES ('req_x', 'a', 'agt', 'whk', 'r', 'scheduled', ?, 0,"
                " 0, 0)",
                (2**62,),
            ),
        )
        scheduler.wake(poison)
        await dispatch(scheduler)  # reads the stored due time and sets the next timer from it
        job = scheduler._aps.get_job(DISPATCH)
        assert job is not None
        assert job.next_run_time.timestamp() <= now + MAX_TIMER_SECONDS + 1
        assert "Traceback" not in caplog.text
    finally:
        await scheduler.stop()


async def test_a_dispatch_the_shutdown_stops_mid_run_is_not_logged_as_a_failure(services, caplog, monkeypatch):
    """APScheduler logs a job's CancelledError as "raised an exception" with a traceback: at every stop that found a
    dispatch in its claim (and when `serve` could not bind its port) the log showed an error that was none."""
    import asyncio
    import logging

    scheduler = Scheduler(services)
    started = asyncio.Event()

    async def claiming(look_first: bool = False) -> None:
        started.set()
        await asyncio.sleep(30)  # the claim, still running when the shutdown comes

    monkeypatch.setattr(scheduler.dispatcher, "run_due", claiming)
    with caplog.at_level(logging.INFO):
        scheduler.start()
        await asyncio.wait_for(started.wait(), 5)
        await scheduler.stop()
        jobs = [task for task in asyncio.all_tasks() if "run_coroutine_job" in repr(task.get_coro())]
        assert jobs, "the dispatch job's task was not found"
        for task in jobs:  # what the event loop's shutdown does to what is left
            task.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
