"""The claim loop: claim due requests within the in-flight limits, run each delivery, stop, wait until idle.

The Dispatcher holds only this process's in-flight work; the queue itself is the message_requests table.
One delivery, end to end, is delivery/attempt.py's; what follows it is delivery/outcome.py's decision.
It never imports apscheduler: scheduler.py decides when run_due() is called.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
from collections.abc import Callable

from novaro_lite.delivery.attempt import Courier, deliver
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.errors import UnavailableError
from novaro_lite.outbound.webhook_sender import WebhookSender
from novaro_lite.services import Services

logger = logging.getLogger(__name__)
CLAIM_BATCH = 500


class Dispatcher:
    """Claims due requests for this process and runs each one's delivery as a task it tracks."""

    def __init__(self, services: Services, *, rng: random.Random | None = None) -> None:
        self._services = services
        self.owner = new_id("own")  # this process's name on the leases it takes
        sender = WebhookSender(services.webhook_http, services.settings.webhooks, services.clock, services.playground)
        self._courier = Courier(services, sender, self.owner, rng or random.Random())
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._per_webhook: collections.Counter[str] = collections.Counter()
        self._stopping = False
        self._claiming = asyncio.Lock()  # one claim loop at a time, so the in-flight limits hold
        self._handing_back: set[asyncio.Task[None]] = set()
        self._unsure = False  # a claim failed with the database: it may have committed, its answer lost
        self._took_all = False  # the last claim took less than it could: nothing more was due then
        self.claimed_at = 0.0
        self.on_capacity: Callable[[], None] = lambda: None  # set by the scheduler: "run me again soon"

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run_due(self, *, look_first: bool = False) -> int:
        """Claim what is due now, within the in-flight limits, and start delivering it; return how many started.

        `claimed_at` is then the time the claim used: what was due by then and not taken is held back. With
        `look_first` (a delivery freed a slot) after a claim that took all there was, a read finds out first
        whether a claim could take anything at all: in steady traffic, usually nothing else is due. After a claim
        that stopped at the in-flight limit (a backlog), it claims at once.
        """
        async with self._claiming:  # "now" is read inside the lock: a run that waited for it must not claim stale
            self.claimed_at = self._services.clock()
            return await self._claim_and_start(self.claimed_at, look_first)

    async def _claim_and_start(self, now: float, look_first: bool) -> int:
        settings, started = self._services.settings.delivery, 0
        if self._unsure:
            await self._take_back(now)
        if look_first and self._took_all and not await self._services.storage.queue.any_due(now):
            return 0
        while not self._stopping:
            free = min(settings.max_in_flight - len(self._tasks), CLAIM_BATCH)
            if free <= 0:
                self._took_all = False
                break
            claimed = await self._claim(now, free)
            for request in claimed:
                self._start(request)
            started += len(claimed)
            if len(claimed) < free:
                self._took_all = True
                break
        return started

    async def _claim(self, now: float, limit: int) -> list[MessageRequest]:
        settings = self._services.settings.delivery
        claim = asyncio.ensure_future(
            self._services.storage.queue.claim(
                now=now,
                lease_seconds=settings.lease_seconds,
                limit=limit,
                per_webhook=settings.max_in_flight_per_webhook,
                in_flight={webhook: n for webhook, n in self._per_webhook.items() if n},
                working=self._tasks.keys(),
                owner=self.owner,
            )
        )
        try:
            return await asyncio.shield(claim)
        except UnavailableError:
            # The connection may have gone after PostgreSQL committed the claim but before we heard so: rows
            # leased to us that no task of ours delivers. _take_back finds them before the next claim.
            self._unsure = True
            raise
        except asyncio.CancelledError:
            # Cancelled while the claim ran (shutdown): its COMMIT may still land. Hand back whatever it took
            # rather than leave those rows leased to us until the lease runs out.
            handing_back = asyncio.create_task(self._hand_back(claim))
            self._handing_back.add(handing_back)
            handing_back.add_done_callback(self._handing_back.discard)
            raise

    async def _hand_back(self, claim: asyncio.Future[list[MessageRequest]]) -> None:
        with contextlib.suppress(Exception):  # a claim that failed took nothing
            claimed = await claim
            await self._services.storage.queue.release([r.id for r in claimed], self.owner, self._services.clock())

    async def _take_back(self, now: float) -> None:
        """Release the requests leased to this process that it is not delivering, so the next claim takes them
        now rather than once their lease (lease_seconds) runs out. Under the claiming lock: no task starts
        meanwhile, and only this process changes rows under its own live lease."""
        queue = self._services.storage.queue
        lost = [request_id for request_id in await queue.leased_to(self.owner) if request_id not in self._tasks]
        await queue.release(lost, self.owner, now)
        if lost:
            logger.info("took back %d requests whose claim's answer the database lost", len(lost))
        self._unsure = False

    def _start(self, request: MessageRequest) -> None:
        self._per_webhook[request.webhook_id] += 1
        task = asyncio.create_task(self._deliver(request), name=f"deliver {request.id}")
        self._tasks[request.id] = task

        def done(finished: asyncio.Task[None]) -> None:
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("recording the delivery of %s failed", request.id, exc_info=finished.exception())
            if self._tasks.get(request.id) is finished:  # not a later delivery of the same request
                del self._tasks[request.id]
            self._per_webhook[request.webhook_id] -= 1
            if not self._stopping:
                self.on_capacity()

        task.add_done_callback(done)

    async def wait_idle(self) -> None:
        """Wait until nothing is in flight (for tests and benchmarks)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def stop(self) -> None:
        """Stop claiming, give in-flight deliveries the grace period, then hand the rest back to the queue."""
        self._stopping = True
        async with self._claiming:  # a claim under way finishes and starts its deliveries first
            pass
        if self._tasks:
            await asyncio.wait(
                list(self._tasks.values()), timeout=self._services.settings.delivery.shutdown_grace_seconds
            )
        leftover = dict(self._tasks)
        for task in leftover.values():
            task.cancel()
        await asyncio.gather(*leftover.values(), *self._handing_back, return_exceptions=True)
        await self._services.storage.queue.release(list(leftover), self.owner, self._services.clock())

    async def _deliver(self, request: MessageRequest) -> None:
        """The body of each delivery task: one attempt and what follows it (delivery/attempt.py)."""
        await deliver(self._courier, request)
