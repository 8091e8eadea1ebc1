"""A humanlike reply's steps (docs/design.md, Arrival): sleep, order, read and write, type, arrive; and presence.

Called by delivery/attempt.py for a request whose timing the model drew; uses storage and the webhook
sender. Each claim of such a request does the step that is due and gives the request back, held, until
the next one: the agent reads (`message.read`) and the reply is written, typing starts (`agent.typing`,
its `until` the arrival), the reply arrives. domain/arrival.py decides every time. Whatever brought a
request here early (a hand-back at shutdown, a resend), it only waits again; whatever brought it in the
agent's sleep (a retry, a resumed pause), it waits for the wake-up. Events are best-effort: one signed
POST each, never retried, and a failure is only logged. When the agent read (storage/queue.py, READ_SQL) and
started typing is kept on the request (its timeline), whichever events its webhook subscribes to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Sequence

from novaro_lite.domain import check_ins
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.arrival import ModelClock, TypedReply, first_awake, type_reply
from novaro_lite.domain.conversations import session_end
from novaro_lite.domain.events import Event, event_id, read_body, typing_body
from novaro_lite.domain.groups import chat_key
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.domain.webhooks import Webhook
from novaro_lite.errors import NotFoundError, UnavailableError
from novaro_lite.outbound.targets import TargetRefusedError
from novaro_lite.outbound.webhook_sender import WebhookSender
from novaro_lite.services import Services

logger = logging.getLogger(__name__)
# How soon (model seconds) a message looks again whether the earlier reply of its conversation has arrived,
# when that reply is late (being sent right now).
ORDER_POLL_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class Step:
    """What one claim of a humanlike request works with: the delivery's parts and the agent, as read now (None:
    it was deleted after the reply was written)."""

    services: Services
    sender: WebhookSender
    owner: str
    rng: random.Random
    request: MessageRequest
    agent: Agent | None
    webhook: Webhook

    @property
    def clock(self) -> ModelClock:
        return model_clock(self.services, self.request)


def model_clock(services: Services, request: MessageRequest) -> ModelClock:
    """The agent's clock for this request: `time_scale` times faster from the moment it was accepted."""
    return ModelClock(request.created_at, services.settings.delivery.time_scale)


def first_allowed(request: MessageRequest, agent: Agent, at: float, rng: random.Random, clock: ModelClock) -> float:
    """When the request's next step may happen, from `at` on: the agent is awake, and for a check-in, the user
    is not in quiet hours either (domain/check_ins.py)."""
    if request.kind == "check_in" and request.moment is not None:
        return clock.real(check_ins.first_allowed(agent, request.moment, clock.model(at), rng))
    return first_awake(agent, at, rng, clock)


async def humanlike(
    step: Step, generate: Callable[[Agent], Awaitable[tuple[ChatMessage, ...]]]
) -> tuple[ChatMessage, ...] | None:
    """Do the step that is due now; return the reply once it is to be POSTed, else None (it is held).

    A check-in is written and typed whenever the agent is awake, but it never arrives in the user's quiet
    hours: one whose arrival falls in them (its typing stretched it there, a process was down) waits them out.
    """
    reply = await _step(step, generate)
    if reply is None or step.agent is None or step.request.kind != "check_in":
        return reply
    now = step.services.clock()
    allowed = first_allowed(step.request, step.agent, now, step.rng, step.clock)
    if allowed > now:
        await _hold(step, allowed, allowed, None, reply)
        return None
    return reply


async def _step(
    step: Step, generate: Callable[[Agent], Awaitable[tuple[ChatMessage, ...]]]
) -> tuple[ChatMessage, ...] | None:
    services, request, agent = step.services, step.request, step.agent
    now, arrive_at = services.clock(), request.arrive_at or services.clock()
    if agent is None:  # deleted once its reply was written: the reply still arrives as announced, no more events
        if now < arrive_at:
            await _hold(step, arrive_at, arrive_at, None, None)
            return None
        return request.reply
    awake = first_awake(agent, now, step.rng, step.clock)
    if awake > now:  # sleep wins, whatever brought the request here now
        if request.typing_at is not None:  # its typing was due in the night: it is typed again at wake-up
            await _hold(step, awake, awake, awake, None)
        else:
            await _hold(step, awake, max(arrive_at, awake), None, None)
        return None
    if request.reply is None:
        if request.conversation_id is not None:
            earlier = await services.storage.conversations.earlier_pending(
                request.agent_id, request.conversation_id, request.id
            )
            if earlier is not None:  # never overtake the conversation's earlier reply: read this after it
                wait = max(earlier, now + ORDER_POLL_SECONDS / step.clock.scale)
                await _hold(step, wait, wait + max(0.0, arrive_at - now), None, None)
                return None
        reply = await read_and_write(step, agent, generate)
        return await _type(step, agent, [message.content for message in reply], arrive_at)
    if request.typing_at is not None:  # written, typing to start now
        if now < request.typing_at:
            await _hold(step, request.typing_at, arrive_at, request.typing_at, None)
            return None
        if now < arrive_at:
            return await _start_typing(step, TypedReply(request.reply, request.typing_at, arrive_at))
        # Far too late (the process stopped, the agent slept): type it again from now, so no bubble lies.
        return await _type(step, agent, [message.content for message in request.reply], now)
    if now < arrive_at and request.attempts == 0:  # typed, claimed before its arrival: wait for it
        await _hold(step, arrive_at, arrive_at, None, None)
        return None
    return request.reply


async def read_and_write(
    step: Step, agent: Agent, generate: Callable[[Agent], Awaitable[tuple[ChatMessage, ...]]]
) -> tuple[ChatMessage, ...]:
    """The agent opens the chat (`message.read`, once per request, not again when writing is retried) and
    writes the reply. The event goes out while the model writes: the lease covers the longer, not both.
    A request that skips the human timing (`delay`) reads and writes the same way, only at once."""
    request = step.request
    # A check-in answers no message: there is nothing to read.
    if request.kind != "reply" or request.attempts or request.generation_failures:
        return await generate(agent)
    body = read_body(request, int(step.services.clock()))
    read = asyncio.create_task(_send_event(step.sender, request, "read", body, step.webhook))
    try:
        reply = await generate(agent)
    except BaseException:
        read.cancel()
        await asyncio.gather(read, return_exceptions=True)
        raise
    await read
    return reply


async def _type(step: Step, agent: Agent, bubbles: Sequence[str], arrive_at: float) -> tuple[ChatMessage, ...] | None:
    """Place the typing of the written reply to end at `arrive_at` (or as soon after as physics allows)."""
    now = step.services.clock()
    typed = type_reply(agent, bubbles, now, arrive_at, step.rng, step.clock)
    # Typing starts later: the reply waits, kept, until then. Or it starts now but the reply is not kept yet:
    # it is kept first (due at once), so that a shutdown while `agent.typing` goes out hands the request back
    # with the times that event announces, and the next claim announces the same again (issue 25).
    if typed.started_at > now or (step.request.reply is None and typed.until > typed.started_at):
        await _hold(step, typed.started_at, typed.until, typed.started_at, typed.messages)
        return None
    return await _start_typing(step, typed)


async def _start_typing(step: Step, typed: TypedReply) -> tuple[ChatMessage, ...] | None:
    """`agent.typing` goes out while the request is still leased to this process, so nobody delivers the reply
    before it (issue 25); then the reply waits until `typed.until`, unless that is now."""
    if typed.until > typed.started_at:  # an agent without a typing speed does not type
        noted = _note_typing(step, int(step.services.clock()))
        webhook = await _current_webhook(step)
        if webhook is None:
            await noted
        else:
            body = typing_body(step.request, int(typed.until))
            await asyncio.gather(noted, _send_event(step.sender, step.request, "typing", body, webhook))
    if typed.until <= step.services.clock():
        return typed.messages
    await _hold(step, typed.until, typed.until, None, typed.messages)
    return None


async def _hold(
    step: Step, due: float, arrive_at: float, typing_at: float | None, reply: Sequence[ChatMessage] | None
) -> None:
    """Give the request back until `due`; a lost lease (canceled, taken over) leaves it to its new owner."""
    queue = step.services.storage.queue
    if await queue.hold(step.request.id, step.owner, due=due, arrive_at=arrive_at, typing_at=typing_at, reply=reply):
        step.services.wake(due)


async def _note_typing(step: Step, at: int) -> None:
    """Keep when typing started, for the request's timeline; like the event, best-effort: an unavailable
    database costs the time, never the reply."""
    try:
        await step.services.storage.queue.typing_started(step.request.id, step.owner, at)
    except UnavailableError:
        logger.info("the typing time of %s was not kept: the database is unavailable", step.request.id)


async def _current_webhook(step: Step) -> Webhook | None:
    """The webhook as it is now: writing took a while, and it may have been disabled or deleted."""
    try:
        return await step.services.storage.webhooks.get(step.request.account, step.request.webhook_id)
    except NotFoundError:
        return None


async def _send_event(
    sender: WebhookSender, request: MessageRequest, event: Event, body: bytes, webhook: Webhook
) -> None:
    """POST one event if the request's webhook (as just read) subscribes to it and is enabled."""
    if event not in webhook.events or not webhook.enabled:
        return
    try:
        answer = await sender.post(webhook, event_id(request, event), body)
    except TargetRefusedError:  # its message names the URL, which may hold the receiver's secret: not logged
        logger.warning("the %s event of %s was not sent: webhook %s's URL is refused", event, request.id, webhook.id)
        return
    if not answer.is_success:
        logger.info("the %s event of %s was not accepted: %s", event, request.id, answer.error or answer.status_code)


async def start_session(services: Services, request: MessageRequest, rng: random.Random) -> None:
    """After a reply in a conversation is delivered, the agent stays online there for a drawn session."""
    if request.conversation_id is None:
        return
    try:
        agent = await services.storage.agents.get(request.account, request.agent_id)
    except NotFoundError:
        return
    now = services.clock()
    until = session_end(agent, now, rng, time_scale=services.settings.delivery.time_scale)
    if until is not None:
        key = (
            request.conversation_id if request.group_id is None else chat_key(request.group_id, request.conversation_id)
        )
        await services.storage.conversations.set_online(agent.id, key, until, now)
