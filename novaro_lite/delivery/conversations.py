"""Delivery's part in a conversation (docs/design.md, Conversations): read and typing events, typed replies, presence.

Called by delivery/attempt.py around generating and posting a reply; uses storage and the webhook sender.
Events are best-effort: one signed POST each, never retried, and a failure is only logged.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.conversations import session_end, type_reply
from novaro_lite.domain.events import Event, event_id, read_body, typing_body
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.domain.webhooks import Webhook
from novaro_lite.errors import NotFoundError
from novaro_lite.outbound.targets import TargetRefusedError
from novaro_lite.outbound.webhook_sender import WebhookSender
from novaro_lite.services import Services

logger = logging.getLogger(__name__)


async def _send_event(
    sender: WebhookSender, request: MessageRequest, event: Event, body: bytes, webhook: Webhook
) -> None:
    """POST one event if the request's webhook (as just read) subscribes to it and is enabled."""
    if event not in webhook.events or not webhook.enabled:
        return
    try:
        answer = await sender.post(webhook, event_id(request, event), body)
    except TargetRefusedError as exc:
        logger.warning("the %s event of %s was not sent: %s", event, request.id, exc)
        return
    if not answer.is_success:
        logger.info("the %s event of %s was not accepted: %s", event, request.id, answer.error or answer.status_code)


async def announce_read(sender: WebhookSender, request: MessageRequest, webhook: Webhook) -> None:
    """The agent opens the chat: `message.read`, once per request (not again when generating is retried).
    `webhook` is the request's, read as its delivery began."""
    if request.attempts == 0 and request.generation_failures == 0:
        await _send_event(sender, request, "read", read_body(request, int(sender.clock())), webhook)


async def hold_while_typing(
    services: Services,
    sender: WebhookSender,
    owner: str,
    request: MessageRequest,
    agent: Agent,
    reply: Sequence[ChatMessage],
    rng: random.Random,
) -> tuple[ChatMessage, ...] | None:
    """Time the reply as typed from now. Return it to deliver now, or None once it waits to be typed.

    A request whose delay was drawn by the timing model, for an agent with a typing speed, is typed: the
    reply is stored with its bubbles' new times, `agent.typing` goes out, and the request is due again
    when the last bubble is typed. Any other reply is delivered now, as before.
    """
    now = services.clock()
    if not request.is_humanlike or agent.typing_speed_wpm is None:
        return tuple(reply)
    typed = type_reply(
        agent, [message.content for message in reply], now, rng, time_scale=services.settings.delivery.time_scale
    )
    if typed.until <= now:
        return typed.messages
    # Stored first (the lease ends with the generating phase); the row stays ours, so this process does not
    # deliver the reply before the typing event is out, however short the typing.
    if await services.storage.conversations.store_typed_reply(request.id, owner, typed.messages, typed.until):
        await _announce_typing(services, sender, request, typed.until)
        services.wake(typed.until)
    return None


async def _announce_typing(services: Services, sender: WebhookSender, request: MessageRequest, until: float) -> None:
    """`agent.typing`, to the webhook as it is now (generating took a while: it may be disabled or gone)."""
    try:
        webhook = await services.storage.webhooks.get(request.account, request.webhook_id)
    except NotFoundError:
        return
    await _send_event(sender, request, "typing", typing_body(request, int(until)), webhook)


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
        await services.storage.conversations.set_online(agent.id, request.conversation_id, until, now)
