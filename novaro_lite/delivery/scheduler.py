"""Scheduler: the only module that imports apscheduler. APScheduler is the clock, not the database.

One `dispatch` job is (re)set for the earliest pending due time and moved earlier when a sooner request
arrives or a delivery frees a slot (nothing polls); a periodic `sweep` runs it anyway as a safety net, and
`housekeeping` deletes expired metadata, fails requests paused too long and empties the WAL of purged
content; `check_in_rules` yields the recurring check-ins whose window opens soon. Every job has
misfire_grace_time=None: a run that comes due while the process was busy or down still runs (APScheduler's
default grace would silently drop it).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import ParamSpec

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from novaro_lite.delivery import check_ins
from novaro_lite.delivery.attempt import UNAVAILABLE_RETRY_SECONDS
from novaro_lite.delivery.dispatcher import Dispatcher
from novaro_lite.errors import UnavailableError
from novaro_lite.services import Services

logger = logging.getLogger(__name__)
P = ParamSpec("P")


def stops_quietly(job: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
    """A job that a shutdown may stop mid-run: APScheduler would log its CancelledError as a failure, traceback
    and all (at every stop that caught a dispatch in a claim, and when `serve` cannot bind its port)."""

    @functools.wraps(job)
    async def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await job(*args, **kwargs)
        except asyncio.CancelledError:  # the dispatcher hands back what it claimed (Dispatcher.stop)
            logger.debug("%s stopped by the shutdown", job.__name__)

    return run


DISPATCH, SWEEP, HOUSEKEEPING, RULES = "dispatch", "sweep", "housekeeping", "check_in_rules"
HOUSEKEEPING_SECONDS = 300.0
RULES_SECONDS = 60.0  # well inside check_in_rules.YIELD_LEAD_SECONDS: a check-in is yielded before its window
MAX_TIMER_SECONDS = 86400.0  # the furthest a dispatch timer is set; a later due time is re-timed from there


@stops_quietly
async def dispatch(scheduler: Scheduler, look_first: bool = False) -> None:
    """Start what is due, then set the next dispatch for the earliest due time after this run.

    `look_first`: this run was asked for only by a delivery that freed a slot (Dispatcher.run_due says why).

    Due rows this run did not take are held back (their webhook is at its limit, or this process is still
    delivering them): the delivery that frees their slot wakes the dispatcher (Dispatcher.on_capacity), so
    nothing polls for them. With every slot taken, the same holds for everything already due.

    While the database is unavailable (storage has logged why), it tries again every UNAVAILABLE_RETRY_SECONDS,
    so what came due meanwhile is delivered within a moment of the database's return.
    """
    try:
        await scheduler.dispatcher.run_due(look_first=look_first)
        when = await scheduler.services.storage.queue.next_due(after=scheduler.dispatcher.claimed_at)
    except UnavailableError:
        when = scheduler.services.clock() + UNAVAILABLE_RETRY_SECONDS
    if when is not None:
        scheduler.wake(when)


@stops_quietly
async def housekeeping(services: Services) -> None:
    """Delete the metadata of requests that ended before the retention period, fail those paused too long;
    empty the WAL."""
    settings, now = services.settings.delivery, int(services.clock())
    try:
        deleted = await services.storage.queue.purge_ended(
            before=now - settings.retention_days * 86400, paused_before=now - settings.paused_max_days * 86400
        )
    except UnavailableError:  # storage has logged why; the next run does it
        return
    if deleted:
        logger.info("deleted %d finished message requests past retention", deleted)
    await services.storage.database.checkpoint()


@stops_quietly
async def check_in_rules(services: Services, rng: random.Random) -> None:
    """Yield the recurring check-ins whose window opens soon (delivery/check_ins.py)."""
    try:
        await check_ins.yield_due(services, rng)
    except UnavailableError:  # storage has logged why; the next run does it
        return


class Scheduler:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.dispatcher = Dispatcher(services)
        self.dispatcher.on_capacity = lambda: self.wake(services.clock(), look_first=True)
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
        self._aps.add_job(
            check_in_rules, "interval", seconds=RULES_SECONDS, args=[self.services, random.Random()], id=RULES, **common
        )
        self._aps.start()
        self.wake(self.services.clock())

    def wake(self, when: float, *, look_first: bool = False) -> None:
        """Make sure a dispatch runs at `when` or earlier. Never raises: callers have already committed.

        `look_first`: the caller (a finished delivery) does not know of anything due; the run looks before it
        claims. A run set for a due time, or for work another process announced, claims at once.

        Any time is taken, however far, past or malformed (a due time stored by an older version, say): the
        timer is set no later than MAX_TIMER_SECONDS from now, and the next dispatch sets it again from there.
        """
        if not self._aps.running:
            return
        try:
            now = self.services.clock()
            when = min(when, now + MAX_TIMER_SECONDS) if math.isfinite(when) else now
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
                args=[self, look_first],
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
