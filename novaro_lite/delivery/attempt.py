"""One delivery of one claimed message request, end to end: webhook check, generation, POST, health, record.

The Dispatcher runs `deliver` for each request it claims. `attempt` finds out what happened, every failure
included, as one of outcome.py's values; outcome.decide says what follows; `deliver` records that in the
queue and the metrics. Uses storage, providers (through generation) and the webhook sender; never imports
apscheduler.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from novaro_lite.delivery import check_ins, conversations, groups
from novaro_lite.delivery.outcome import (
    Answered,
    Crashed,
    Decision,
    Found,
    GenerationFailed,
    Paused,
    Refused,
    decide,
)
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.groups import turn_rng
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import Attempt, MessageRequest, webhook_body
from novaro_lite.domain.webhooks import Webhook, secret_digest
from novaro_lite.errors import NotFoundError, ProviderBusyError, ProviderError, UnavailableError
from novaro_lite.generation import Extras, generate_reply
from novaro_lite.outbound.retry_after import retry_after_seconds
from novaro_lite.outbound.targets import TargetRefusedError
from novaro_lite.outbound.webhook_sender import Answer, WebhookSender
from novaro_lite.services import Services
from novaro_lite.storage.queue import FollowUp

logger = logging.getLogger(__name__)
UNAVAILABLE_RETRY_SECONDS = 0.25  # how often a delivery waiting for the database tries its write again
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Courier:
    """What a delivery uses: the app's services, the webhook sender, this process's name on the leases it
    takes, and the random source of retry jitter, typing and presence."""

    services: Services
    sender: WebhookSender
    owner: str
    rng: random.Random


class _Settled(Exception):
    """Ends an attempt early with what it found (a pause, a refusal, a failed generation), or None: nothing to
    record (a check-in dropped or ended as moot)."""

    def __init__(self, found: Found | None) -> None:
        super().__init__()
        self.found = found


async def deliver(courier: Courier, request: MessageRequest) -> None:
    """Attempt `request` once and record what follows: delivered, a retry, paused or failed."""
    services, began = courier.services, time.monotonic()
    attempted_at = int(services.clock())
    try:
        found = await attempt(courier, request)
    except UnavailableError:  # before the POST (after it, _stored waits): nothing was sent; storage logged why
        release = services.storage.queue.release
        await _stored(services, lambda: release([request.id], courier.owner, services.clock()))
        return  # due again now: the next claim, once the database answers, takes it up
    if found is None:
        return  # canceled or its lease lost while generating, or held until its next step (it is typed)
    wake = await _wake_up(courier, request)
    settings = services.settings.delivery
    decision = decide(request, found, now=services.clock(), settings=settings, rng=courier.rng, wake=wake)
    follow_up = None
    if decision.outcome == "delivered" and isinstance(found, Answered):
        follow_up = await _stored(services, lambda: groups.next_turn(services, request, found.reply, courier.rng))
    await _record(courier, request, decision, attempted_at, time.monotonic() - began, follow_up)


async def attempt(courier: Courier, request: MessageRequest) -> Found | None:
    """Generate the reply if it is not stored yet, then POST it; None when there is nothing to record yet.

    A humanlike request (its timing drawn by the model) goes through its steps in delivery/conversations.py.
    """
    services = courier.services
    try:
        # Before generating: a deleted or disabled webhook must not cost a reply.
        webhook = await _webhook(services, request)
        if request.is_humanlike:
            agent = await _agent(courier, request) if request.reply is None else await _agent_if_any(services, request)
            rng = turn_rng(request.seed, request.turn, courier.rng, "typing")  # a seed makes the typing repeat too
            step = conversations.Step(services, courier.sender, courier.owner, rng, request, agent, webhook)
            typed = await conversations.humanlike(step, lambda found: _generate(courier, request, found))
            if typed is None:
                return None
            if request.reply is None and not await _store(courier, request, typed):
                return None  # written, to be sent at once (typed already, or not at all), and kept first
            webhook = await _webhook(services, request)  # again: disabled, deleted or rotated meanwhile?
            return await _post(courier, request, webhook, typed)
        reply = request.reply
        if reply is None:
            agent = await _agent(courier, request)
            step = conversations.Step(services, courier.sender, courier.owner, courier.rng, request, agent, webhook)
            reply = await conversations.read_and_write(step, agent, lambda found: _generate(courier, request, found))
            sent_at = int(services.clock())  # a `delay` skips typing: every bubble goes out as it is written
            reply = tuple(dataclasses.replace(message, created_at=sent_at) for message in reply)
            if not await _store(courier, request, reply):
                return None
            webhook = await _webhook(services, request)  # again: disabled, deleted or rotated while generating?
        return await _post(courier, request, webhook, reply)
    except _Settled as settled:
        return settled.found
    except UnavailableError:
        raise
    except Exception:  # a bug: log it, and let the retry schedule end it
        logger.exception("delivering message request %s failed unexpectedly", request.id)
        return Crashed("attempts")


async def _record(
    courier: Courier,
    request: MessageRequest,
    decision: Decision,
    attempted_at: int,
    seconds: float,
    follow_up: FollowUp | None = None,
) -> None:
    services = courier.services
    queue = services.storage.queue
    if decision.counter is None:  # nothing was tried: the request only waits
        waits = decision.outcome
        if await _stored(services, lambda: queue.finish_attempt(request.id, courier.owner, None, waits, counter=None)):
            services.metrics.delivery(decision.outcome)
        else:
            _lost_lease(request)
        return
    logged = Attempt(attempted_at, decision.status_code, int(seconds * 1000), decision.error, decision.response_body)
    outcome, retry_at, counter = decision.outcome, decision.retry_at, decision.counter
    if not await _stored(
        services,
        lambda: queue.finish_attempt(request.id, courier.owner, logged, outcome, retry_at, counter, follow_up),
    ):
        _lost_lease(request)
        return
    late = services.clock() - request.scheduled_for if decision.outcome == "delivered" else None
    services.metrics.delivery(decision.outcome, seconds=seconds, lateness=late)
    if decision.outcome == "delivered":
        if request.kind == "check_in":
            services.metrics.check_in("delivered")
        stay = turn_rng(request.seed, request.turn, courier.rng, "stay")
        await _stored(services, lambda: conversations.start_session(services, request, stay))
        if request.group_id is not None:
            services.metrics.group_reply("async")
        if follow_up is not None:
            services.wake(follow_up[1].read_at)


async def _stored(services: Services, call: Callable[[], Awaitable[T]]) -> T:
    """Run a storage call of a delivery under way, waiting out an unavailable database.

    The request stays leased to this process meanwhile, so nobody else takes it up: try again every
    UNAVAILABLE_RETRY_SECONDS, and so record what the receiver answered within a moment of the database's
    return (rather than send it again once the lease ran out); give up after the lease's length.
    """
    give_up = time.monotonic() + services.settings.delivery.lease_seconds
    while True:
        try:
            return await call()
        except UnavailableError:
            if time.monotonic() + UNAVAILABLE_RETRY_SECONDS >= give_up:
                raise
        await asyncio.sleep(UNAVAILABLE_RETRY_SECONDS)


def _lost_lease(request: MessageRequest) -> None:
    # The request ended meanwhile (canceled, superseded, its agent deleted), or this process was frozen or stalled
    # past the lease and another took it over: what this attempt saw is not ours to record; nothing was written.
    logger.warning(
        "delivery of %s not recorded: the request is no longer this process's (it ended meanwhile, or this"
        " process was paused or stalled past [delivery] lease_seconds and another took it over)",
        request.id,
    )


async def _webhook(services: Services, request: MessageRequest) -> Webhook:
    try:
        webhook = await services.storage.webhooks.get(request.account, request.webhook_id)
    except NotFoundError:
        raise _Settled(Refused("The webhook was deleted before the reply was delivered.")) from None
    if not webhook.enabled:
        raise _Settled(Paused())
    return webhook


async def _wake_up(courier: Courier, request: MessageRequest) -> Callable[[float], float]:
    """When a retry at a given time can happen: at once, or for a humanlike request, not in the agent's sleep
    (nor, for a check-in, in the user's quiet hours)."""
    agent = await _agent_if_any(courier.services, request) if request.is_humanlike else None
    if agent is None:
        return lambda at: at
    clock = conversations.model_clock(courier.services, request)
    return lambda at: conversations.first_allowed(request, agent, at, courier.rng, clock)


async def _agent(courier: Courier, request: MessageRequest) -> Agent:
    """The agent who writes the reply. One deleted before writing a group's turn hands it to another member, so
    the group's message is still answered; a one-to-one request fails, nobody being left to answer it."""
    services = courier.services
    agent = await _agent_if_any(services, request)
    if agent is not None:
        return agent
    taken = await groups.stand_in(services, request, courier.rng)
    if taken is None:
        why = " and no other member of the group took its turn" if request.group_id is not None else ""
        raise _Settled(Refused(f"The agent was deleted before its reply was due{why}."))
    speaker, plan = taken
    queue = services.storage.queue
    if await queue.hold(request.id, courier.owner, due=plan.read_at, arrive_at=plan.arrive_at, speaker=speaker):
        services.wake(plan.read_at)
    raise _Settled(None)  # it is the stand-in's turn now, timed by its own table


async def _agent_if_any(services: Services, request: MessageRequest) -> Agent | None:
    try:
        return await services.storage.agents.get(request.account, request.agent_id)
    except NotFoundError:
        return None


async def _generate(courier: Courier, request: MessageRequest, agent: Agent) -> tuple[ChatMessage, ...]:
    """Write the reply (or the check-in); its failures spend the model's budget, not the webhook's."""
    check_in = None
    if request.kind == "check_in":
        check_in = await check_ins.prepare(courier.services, courier.owner, request, agent)
        if check_in is None:
            raise _Settled(None)  # the conversation is active: the check-in was dropped
    try:
        # A check-in is one agent's own message; a reply may be a group's, written in its scene.
        scene = None if check_in is not None else await groups.request_scene(courier.services, request, agent)
        extras = check_in or Extras(scene=scene)
        generated = await generate_reply(courier.services, agent, request.messages or (), request.context_ids, extras)
    except UnavailableError:
        raise
    except ProviderError as exc:
        asked = None
        if isinstance(exc, ProviderBusyError):
            asked = retry_after_seconds(exc.headers.get("Retry-After"), courier.services.clock())
        raise _Settled(GenerationFailed(exc.detail, asked)) from None
    except Exception:  # as in attempt(), but while generating
        logger.exception("delivering message request %s failed unexpectedly", request.id)
        raise _Settled(Crashed("generation_failures")) from None
    return tuple(generated.messages)


async def _store(courier: Courier, request: MessageRequest, reply: tuple[ChatMessage, ...]) -> bool:
    """Keep the reply, so every attempt sends the same body; False if the lease was lost meanwhile."""
    services = courier.services
    lease_until = services.clock() + services.settings.delivery.lease_seconds
    return await services.storage.queue.store_reply(request.id, courier.owner, reply, lease_until)


async def _post(
    courier: Courier, request: MessageRequest, webhook: Webhook, reply: tuple[ChatMessage, ...]
) -> Answered | Crashed:
    """POST the reply and track the webhook's health; `webhook` was read just before (after generating, if
    the reply was generated now). A check-in passes its fence first: if the user wrote, it ends, never sent."""
    if request.kind == "check_in" and not await courier.services.storage.check_ins.start_sending(
        request, courier.owner
    ):
        raise _Settled(None)
    # The body's `secret` is the digest of the secret current at this attempt (docs/api.md, "The delivery").
    body = webhook_body(request, reply, secret_digest(webhook.secret))
    try:
        answer = await courier.sender.post(webhook, request.id, body)
    except TargetRefusedError as exc:
        raise _Settled(Refused(str(exc))) from None
    services = courier.services
    try:
        disabled_for = await _stored(services, lambda: _record_health(services, webhook, answer))
        if answer.status_code == 410:
            disable = services.storage.webhooks.disable
            await _stored(services, lambda: disable(request.webhook_id, "the receiver answered 410 Gone"))
    except Exception:  # as in attempt(), but the receiver's answer is logged with the attempt
        logger.exception("delivering message request %s failed unexpectedly", request.id)
        return Crashed("attempts", answer)
    return Answered(answer, disabled_for, reply)


async def _record_health(services: Services, webhook: Webhook, answer: Answer) -> str | None:
    """Track the webhook's health. Return the reason if this failure disabled it: it has only failed for
    [webhooks] disable_after_hours (its requests are then paused, like any disabled webhook's)."""
    now = int(services.clock())
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
