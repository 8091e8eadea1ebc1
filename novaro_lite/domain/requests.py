"""Async message requests: their states, the retry schedule and the webhook body. Pure; no I/O."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from typing import Literal

from novaro_lite.domain.check_ins import CanceledReason, Moment
from novaro_lite.domain.messages import ChatMessage

Status = Literal["scheduled", "generating", "delivering", "paused", "delivered", "failed", "canceled", "superseded"]
PENDING: tuple[Status, ...] = ("scheduled", "generating", "delivering")  # the dispatcher's to take
# Waiting for its webhook to be enabled again, content kept; neither pending nor ended.
PAUSED: Status = "paused"
ENDED: tuple[Status, ...] = ("delivered", "failed", "canceled", "superseded")
STATUSES: tuple[Status, ...] = (*PENDING, PAUSED, *ENDED)
# A reply answers the user's messages; a check-in is written first (domain/check_ins.py). Both are queue rows.
Kind = Literal["reply", "check_in"]
RESPONSE_BODY_LIMIT = 1024  # bytes of a receiver's answer kept in the attempt log


@dataclasses.dataclass(frozen=True)
class MessageRequest:
    """One accepted async request. `messages` and `reply` are None once it has ended (purged)."""

    id: str
    account: str
    agent_id: str
    webhook_id: str
    reference: str
    status: Status
    scheduled_for: int
    attempts: int
    last_error: str | None
    last_status_code: int | None
    delivered_at: int | None
    created_at: int
    updated_at: int
    messages: tuple[ChatMessage, ...] | None
    context_ids: tuple[str, ...]
    reply: tuple[ChatMessage, ...] | None
    generation_failures: int = 0  # failed tries of the model; a budget of their own, apart from `attempts`
    conversation_id: str | None = None
    superseded_by: str | None = None  # the newer request of the conversation that answers this one too
    is_humanlike: bool = False  # its delay was drawn by the timing model (not `delay`): the reply is typed
    # When the reply is to arrive (domain/arrival.py): drawn at acceptance, stretched only by physics.
    arrive_at: float | None = None
    # When typing starts, while it is still to be announced (`agent.typing`); None before the reply is
    # written and once typing is under way.
    typing_at: float | None = None
    kind: Kind = "reply"
    topic: str | None = None  # a check-in's: what to bring up; content, purged when it ends
    moment: Moment | None = None  # a check-in's: the window, zone and quiet hours its time was drawn in
    canceled_reason: CanceledReason | None = None  # a check-in's: why it was canceled (domain/check_ins.py, REASONS)
    rule_id: str | None = None  # a check-in's: the recurring rule that yielded it (domain/check_in_rules.py)
    # When the agent read the request's messages and when it last started typing the reply (a check-in is only
    # typed), as they happened (delivery/conversations.py): times, not content, so never purged.
    read_at: int | None = None
    typing_started_at: int | None = None

    # In a group (domain/groups.py): the group, this reply's turn in the exchange (1 answers the user), how
    # many agent turns may still follow it, the request whose reply it answers, and the caller's seed.
    group_id: str | None = None
    turn: int = 0
    turns_left: int = 0
    follows: str | None = None
    seed: int | None = None

    @property
    def is_being_typed(self) -> bool:
        """Its reply is written and promised to arrive (the events said so) and not yet tried."""
        return self.is_humanlike and self.reply is not None and self.attempts == 0


@dataclasses.dataclass(frozen=True)
class Attempt:
    attempted_at: int
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str | None


def retry_wait(
    attempts_made: int,
    schedule: Sequence[float],
    jitter: float,
    rng: random.Random,
    asked: float | None = None,
) -> float | None:
    """Seconds to wait before the next attempt, or None when the schedule is used up.

    `asked` is the other side's Retry-After. It may lengthen a wait, never shorten it (a `0` or a past
    date must not burn the whole schedule in seconds), and never beyond the schedule's longest wait.
    """
    if attempts_made > len(schedule):
        return None
    wait = schedule[attempts_made - 1] * rng.uniform(1 - jitter, 1 + jitter)
    if asked is not None:
        wait = max(wait, min(asked, max(schedule)))
    return wait


def webhook_body(request: MessageRequest, reply: Sequence[ChatMessage], secret_digest: str) -> bytes:
    """The JSON a receiver gets: the hosted API's `messages`, `reference` and `secret`, plus ids, the `type`
    ("reply" or "check_in") that tells an answer from a message the agent wrote first and, for a group's
    reply, the group and the turn of the exchange."""
    body: dict[str, object] = {
        "type": request.kind,
        "messages": [
            {"role": message.role, "createdAt": message.created_at, "content": message.content} for message in reply
        ],
        "reference": request.reference,
        "secret": secret_digest,
        "id": request.id,
        "agentId": request.agent_id,
        "conversationId": request.conversation_id,
    }
    if request.group_id is not None:
        body |= {"groupId": request.group_id, "turn": request.turn}
    return json.dumps(
        body,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
