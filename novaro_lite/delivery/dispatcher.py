"""Delivery: claim due requests, generate the reply once, sign it, POST it, record the attempt.

The Dispatcher holds only this process's in-flight work; the queue itself is the message_requests table.
It uses storage, providers (through generation) and the shared HTTP client, and never imports apscheduler:
scheduler.py decides when run_due() is called.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import Callable

from novaro_lite.delivery import conversations
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import Attempt, MessageRequest, retry_wait, webhook_body
from novaro_lite.domain.webhooks import Webhook, secret_digest
from novaro_lite.errors import NotFoundError, ProviderBusyError, ProviderError
from novaro_lite.generation import generate_reply
from novaro_lite.outbound.targets import TargetRefusedError
from novaro_lite.outbound.webhook_sender import Answer, post_signed
from novaro_lite.services import Services
from novaro_lite.storage.queue import Counter, Outcome

logger = logging.getLogger(__name__)
CLAIM_BATCH = 500


class PermanentFailure(Exception):
    """Retrying cannot help (the agent or webhook is gone, or the target is refused)."""


class WebhookPausedError(Exception):
    """The webhook is disabled: the request waits, paused with its content, until it is enabled again."""


class Dispatcher:
    def __init__(self, services: Services, *, rng: random.Random | None = None) -> None:
        self._services = services
        self._rng = rng or random.Random()
        self.owner = new_id("own")  # this process's name on the leases it takes
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._per_webhook: collections.Counter[str] = collections.Counter()
        self._stopping = False
        self._claiming = asyncio.Lock()  # one claim loop at a time, so the in-flight limits hold
        self._handing_back: set[asyncio.Task[None]] = set()
        self.claimed_at = 0.0
        self.on_capacity: Callable[[], None] = lambda: None  # set by the scheduler: "run me again soon"

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run_due(self) -> int:
        """Claim what is due now, within the in-flight limits, and start delivering it; return how many started.

        `claimed_at` is then the time the claim used: what was due by then and not taken is held back.
        """
        async with self._claiming:  # "now" is read inside the lock: a run that waited for it must not claim stale
            self.claimed_at = self._services.clock()
            return await self._claim_and_start(self.claimed_at)

    async def _claim_and_start(self, now: float) -> int:
        settings, started = self._services.settings.delivery, 0
        while not self._stopping:
            free = min(settings.max_in_flight - len(self._tasks), CLAIM_BATCH)
            if free <= 0:
                break
            claimed = await self._claim(now, free)
            for request in claimed:
                self._start(request)
            started += len(claimed)
            if len(claimed) < free:
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
        services, began = self._services, time.monotonic()
        attempted_at = int(services.clock())
        status_code: int | None = None
        response_body: str | None = None
        wait: float | None = None
        counter: Counter | None = "attempts"
        try:
            webhook = await self._webhook(request)  # before generating: a deleted or disabled one must not cost a reply
            reply = request.reply
            if reply is None:
                counter = "generation_failures"  # the model's failures have a budget of their own
                reply = await self._generate(request, webhook)
                if reply is None:
                    return  # canceled or its lease lost while generating, or now waiting while the reply is typed
                counter = "attempts"
                webhook = await self._webhook(request)  # again: disabled, deleted or rotated while generating?
            answer = await self._post(webhook, request, reply)
            status_code, response_body = answer.status_code, answer.body
            disabled_for = await self._record_health(webhook, answer)
            if answer.is_success:
                outcome: Outcome = "delivered"
                error = None
            elif status_code == 410:
                await services.storage.webhooks.disable(request.webhook_id, "the receiver answered 410 Gone")
                outcome = "paused"
                error = (
                    "The receiver answered 410 Gone; the webhook is disabled, its requests paused until it is enabled."
                )
            elif disabled_for is not None:
                outcome = "paused"
                error = f"The webhook is now disabled ({disabled_for}); its requests are paused until it is enabled."
            else:
                outcome, error = "retry", answer.error or f"The receiver answered HTTP {status_code}."
                if status_code in (429, 503):
                    wait = answer.retry_after
        except WebhookPausedError:
            await services.storage.queue.finish_attempt(request.id, self.owner, None, "paused", counter=None)
            services.metrics.delivery("paused")
            return
        except PermanentFailure as exc:
            outcome, error, counter = "failed", str(exc), "attempts"
        except ProviderError as exc:
            outcome, error = "retry", f"Generating the reply failed: {exc.detail}"
            if isinstance(exc, ProviderBusyError):
                wait = float(exc.headers.get("Retry-After", "0"))
        except Exception:  # a bug or a broken database: log it, and let the retry schedule end it
            logger.exception("delivering message request %s failed unexpectedly", request.id)
            outcome, error = "retry", "The server hit an unexpected error while delivering; it has been logged."
        retry_at = None
        if outcome == "retry":
            made = (request.generation_failures if counter == "generation_failures" else request.attempts) + 1
            retry_at = self._retry_at(made, wait)
            if retry_at is None:
                outcome, error = "failed", f"{error} No retries left."
        seconds = time.monotonic() - began
        attempt = Attempt(attempted_at, status_code, int(seconds * 1000), error, response_body)
        await services.storage.queue.finish_attempt(request.id, self.owner, attempt, outcome, retry_at, counter)
        late = services.clock() - request.scheduled_for if outcome == "delivered" else None
        services.metrics.delivery(outcome, seconds=seconds, lateness=late)
        if outcome == "delivered":
            await conversations.start_session(services, request, self._rng)

    def _retry_at(self, attempts_made: int, asked: float | None) -> float | None:
        settings = self._services.settings.delivery
        wait = retry_wait(attempts_made, settings.retry_schedule, settings.retry_jitter, self._rng, asked)
        return None if wait is None else self._services.clock() + wait / settings.time_scale

    async def _webhook(self, request: MessageRequest) -> Webhook:
        try:
            webhook = await self._services.storage.webhooks.get(request.account, request.webhook_id)
        except NotFoundError:
            raise PermanentFailure("The webhook was deleted before the reply was delivered.") from None
        if not webhook.enabled:
            raise WebhookPausedError
        return webhook

    async def _generate(self, request: MessageRequest, webhook: Webhook) -> tuple[ChatMessage, ...] | None:
        services = self._services
        try:
            agent = await services.storage.agents.get(request.account, request.agent_id)
        except NotFoundError:
            raise PermanentFailure("The agent was deleted before its reply was due.") from None
        # The read event goes out while the model writes, so the lease covers the longer of the two, not both.
        read = asyncio.create_task(conversations.announce_read(services, request, webhook))
        try:
            generated = await generate_reply(services, agent, request.messages or (), request.context_ids)
        except BaseException:
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)
            raise
        await read
        reply = await conversations.hold_while_typing(
            services, self.owner, request, agent, generated.messages, self._rng
        )
        if reply is None:
            return None  # it is being typed: the request is due again when the last bubble is
        lease_until = services.clock() + services.settings.delivery.lease_seconds
        if not await services.storage.queue.store_reply(request.id, self.owner, reply, lease_until):
            return None
        return reply

    async def _post(self, webhook: Webhook, request: MessageRequest, reply: tuple[ChatMessage, ...]) -> Answer:
        """POST the reply; `webhook` was read just before (after generating, if the reply was generated now)."""
        # The body's `secret` is the digest of the secret current at this attempt (docs/api.md, "The delivery").
        body = webhook_body(request, reply, secret_digest(webhook.secret))
        try:
            return await post_signed(self._services, webhook, request.id, body)
        except TargetRefusedError as exc:
            raise PermanentFailure(str(exc)) from None

    async def _record_health(self, webhook: Webhook, answer: Answer) -> str | None:
        """Track the webhook's health. Return the reason if this failure disabled it: it has only failed for
        [webhooks] disable_after_hours (its requests are then paused, like any disabled webhook's)."""
        services, now = self._services, int(self._services.clock())
        if answer.is_success:
            await services.storage.webhooks.record_success(webhook, now)
            return None
        hours = services.settings.webhooks.disable_after_hours
        last = answer.error or f"HTTP {answer.status_code}"
        reason = (
            f"every delivery failed for {hours} h (the last: {last.rstrip('.')}); enable it again once the receiver"
            " answers 2xx"
        )
        if not await services.storage.webhooks.record_failure(webhook.id, now, hours * 3600 or None, reason):
            return None
        logger.warning("webhook %s disabled: its deliveries have only failed for %d h", webhook.id, hours)
        return reason
