"""Webhook events besides the reply: `message.read` and `agent.typing`, for chat UIs. Pure; no I/O.

A webhook subscribes with `events`; the reply is always sent. Events are best-effort (one attempt, no
retries): they show what the agent is doing now, and a late one would only mislead.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from novaro_lite.domain.requests import MessageRequest

Event = Literal["reply", "read", "typing"]
EVENTS: tuple[Event, ...] = ("reply", "read", "typing")
DEFAULT_EVENTS: tuple[Event, ...] = ("reply",)


def check_events(events: list[Event]) -> tuple[Event, ...]:
    """Return the subscription in canonical order; it must include `reply`, which every request needs."""
    if "reply" not in events:
        raise ValueError('must include "reply": every message request is answered through its webhook')
    return tuple(event for event in EVENTS if event in events)


def _body(kind: str, request: MessageRequest, **extra: Any) -> bytes:
    """The event's fields; a group's events, like its replies, name the group and the turn of the exchange,
    so a receiver showing several speakers knows which chat and which reply the event is about."""
    fields: dict[str, Any] = {
        "type": kind,
        "id": request.id,
        "agentId": request.agent_id,
        "reference": request.reference,
        "conversationId": request.conversation_id,
        **extra,
    }
    if request.group_id is not None:
        fields |= {"groupId": request.group_id, "turn": request.turn}
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def read_body(request: MessageRequest, read_at: int) -> bytes:
    """`message.read`: the agent opened the chat and read the request's messages."""
    return _body("message.read", request, readAt=read_at)


def typing_body(request: MessageRequest, until: int) -> bytes:
    """`agent.typing`: the agent started typing its reply, which arrives at `until`."""
    return _body("agent.typing", request, until=until)


def event_id(request: MessageRequest, event: Event) -> str:
    """The `webhook-id` of an event: stable, so a receiver can de-duplicate it like a reply."""
    return f"{request.id}.{event}"
