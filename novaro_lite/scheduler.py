"""Scheduler: the only module that imports apscheduler. APScheduler is the clock, not the database.

One `dispatch` job is (re)set for the earliest pending due time and moved earlier when a sooner request
arrives; a periodic `sweep` runs it anyway as a safety net, and `housekeeping` deletes expired metadata
and empties the WAL of purged content. Every job has misfire_grace_time=None: a run that comes due while
the process was busy or down still runs (APScheduler's default grace would silently drop it).
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from novaro_lite.delivery import Dispatcher
from novaro_lite.services import Services

logger = logging.getLogger(__name__)
DISPATCH, SWEEP, HOUSEKEEPING = "dispatch", "sweep", "housekeeping"
HOUSEKEEPING_SECONDS = 300.0
IDLE_RETRY_SECONDS = 0.25
MAX_TIMER_SECONDS = 86400.0  # the furthest a dispatch timer is set; a later due time is re-timed from there
HELD_BACK_GRACE_SECONDS = 0.05


def next_dispatch(started: int, next_due: float | None, now: float, *, at_capacity: bool) -> float | None:
    """When to dispatch again after a run that started `started` deliveries; None: when a slot frees up."""
    if next_due is None or at_capacity:
        return None  # a finishing delivery wakes the dispatcher again (Dispatcher.on_capacity)
    # Nothing started although something is due: it is held back (a busy webhook waits for a slot, which
    # wakes us; our own late lease), so do not spin on it. The grace keeps a run that fired a hair before
    # its due time (timers are not exact) from mistaking the row for a held-back one.
    if not started and next_due <= now - HELD_BACK_GRACE_SECONDS:
        return now + IDLE_RETRY_SECONDS
    return next_due


async def dispatch(scheduler: Scheduler) -> None:
    """Start what is due, then set the next dispatch for the earliest pending due time."""
    started = await scheduler.dispatcher.run_due()
    services = scheduler.services
    at_capacity = scheduler.dispatcher.in_flight >= services.settings.delivery.max_in_flight
    when = next_dispatch(started, services.storage.queue.next_due(), services.clock(), at_capacity=at_capacity)
    if when is not None:
        scheduler.wake(when)


async def housekeeping(services: Services) -> None:
    """Delete the metadata of requests that ended before the retention period; empty the WAL."""
    retention = services.settings.delivery.retention_days * 86400
    deleted = await services.storage.queue.purge_ended(before=int(services.clock()) - retention)
    if deleted:
        logger.info("deleted %d finished message requests past retention", deleted)
    await services.storage.database.checkpoint()


class Scheduler:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.dispatcher = Dispatcher(services)
        self.dispatcher.on_capacity = lambda: self.wake(services.clock())
        self._aps = AsyncIOScheduler(timezone=UTC)

    @property
    def is_running(self) -> bool:
        return bool(self._aps.running)

    def start(self) -> None:
        """Start the jobs; the first dispatch runs at once, picking up whatever came due while we were down."""
        sweep_seconds = self.services.settings.delivery.sweep_seconds
        common = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        self._aps.add_job(dispatch, "interval", seconds=sweep_seconds, args=[self], id=SWEEP, **common)
        self._aps.add_job(
            housekeeping, "interval", seconds=HOUSEKEEPING_SECONDS, args=[self.services], id=HOUSEKEEPING, **common
        )
        self._aps.start()
        self.wake(self.services.clock())

    def wake(self, when: float) -> None:
        """Make sure a dispatch runs at `when` or earlier. Never raises: callers have already committed.

        Any time is taken, however far, past or malformed (a due time stored by an older version, say): the
        timer is set no later than MAX_TIMER_SECONDS from now, and the next dispatch sets it again from there.
        """
        if not self._aps.running:
            return
        now = self.services.clock()
        when = min(when, now + MAX_TIMER_SECONDS) if math.isfinite(when) else now
        try:
            run_at = datetime.fromtimestamp(max(when, now - MAX_TIMER_SECONDS), UTC)
            job = self._aps.get_job(DISPATCH)
            if job is not None and job.next_run_time is not None and job.next_run_time <= run_at:
                return
            # A wake while a dispatch is running adds a new run of the same job id; let it start and queue on
            # the dispatcher's lock rather than be skipped as "maximum number of running instances reached".
            self._aps.add_job(
                dispatch,
                "date",
                run_date=run_at,
                args=[self],
                id=DISPATCH,
                replace_existing=True,
                misfire_grace_time=None,
                max_instances=1000,
            )
        except Exception:  # the sweep still runs every sweep_seconds: nothing is lost, only later
            logger.exception("setting the dispatch timer for %r failed; the sweep will pick the work up", when)

    async def stop(self) -> None:
        """Stop the clock first, then let the dispatcher finish or hand back its work."""
        if self._aps.running:
            self._aps.shutdown(wait=False)
        await self.dispatcher.stop()
