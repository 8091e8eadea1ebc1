from __future__ import annotations

import pytest

from novaro_lite.scheduler import (
    DISPATCH,
    HELD_BACK_GRACE_SECONDS,
    IDLE_RETRY_SECONDS,
    MAX_TIMER_SECONDS,
    Scheduler,
    dispatch,
    next_dispatch,
)

NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("started", "next_due", "at_capacity", "expected"),
    [
        (0, None, False, None),  # nothing pending
        (3, NOW - 5, True, None),  # full: a finishing delivery wakes us
        (3, NOW + 10, False, NOW + 10),  # the next due time
        (3, NOW - 1, False, NOW - 1),  # more already due: at once
        (0, NOW - 1, False, NOW + IDLE_RETRY_SECONDS),  # due but held back: no spinning
        (0, NOW - HELD_BACK_GRACE_SECONDS / 2, False, NOW - HELD_BACK_GRACE_SECONDS / 2),  # fired a hair early
    ],
)
def test_next_dispatch(started, next_due, at_capacity, expected):
    assert next_dispatch(started, next_due, NOW, at_capacity=at_capacity) == expected


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
