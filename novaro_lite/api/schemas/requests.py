"""Wire models of /api/v1/message-requests."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, JsonValue, model_validator

from novaro_lite.api.schemas.messages import SEED_MAX, ContextIds, MessageIn, Speaker
from novaro_lite.api.schemas.paging import PageOut, PageQuery
from novaro_lite.api.schemas.wire import WireModel
from novaro_lite.domain.conversations import CONVERSATION_ID_MAX
from novaro_lite.domain.requests import Attempt, MessageRequest, Status

MAX_DELAY_SECONDS = 7 * 86400


class FixedDelay(WireModel):
    seconds: int = Field(ge=0, le=MAX_DELAY_SECONDS)


GROUP_EXAMPLE: dict[str, JsonValue] = {
    "groupId": "grp_01jqz8w7b9d1f3h5k7m9p1r3t5",
    "webhookId": "whk_01jqz8w9c1e3g5j7l9n1q3s5u7",
    "reference": "flat-chat/1842",
    "conversationId": "flat-chat",
    "seed": 7,
    "messages": [{"role": "user", "name": "Sam", "content": "Lena, are you coming tonight?"}],
}


class MessageRequestCreate(WireModel):
    model_config = ConfigDict(json_schema_extra={"examples": [GROUP_EXAMPLE]})

    agent_id: Speaker = None
    group_id: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="A group instead of one agent: the server decides who answers, and each reply is its own "
        "delivery naming its `agentId`, timed by that agent. Needs `conversationId`.",
    )
    seed: int | None = Field(
        None, ge=0, le=SEED_MAX, description="The same seed gives the same speakers and the same times."
    )
    webhook_id: str = Field(min_length=1, max_length=100)
    reference: str = Field(min_length=1, max_length=500, description="Yours; sent back with the reply.")
    messages: list[MessageIn] = Field(min_length=1, max_length=200, description="The conversation, oldest first.")
    context_ids: ContextIds = Field(default_factory=list)
    delay: Literal["immediate"] | FixedDelay | None = Field(
        None, description="For integration tests: skip the human-like timing (the operator may forbid it)."
    )
    conversation_id: str | None = Field(
        None,
        min_length=1,
        max_length=CONVERSATION_ID_MAX,
        description="Yours: the chat this message belongs to. The agent answers a conversation like one person: "
        "a newer request supersedes an unread one, and after a reply it stays online there for a while.",
    )
    supersede: bool = Field(
        True, description="false: never supersede an earlier unread request of the same conversation."
    )

    @model_validator(mode="after")
    def _one_speaker(self) -> MessageRequestCreate:
        if self.agent_id is None and self.group_id is None:
            raise ValueError("give `agentId` (one agent answers) or `groupId` (a group's members do)")
        if self.group_id is not None and self.conversation_id is None:
            raise ValueError("a group's message needs `conversationId`: the chat its members answer in")
        return self


class QueuedOut(WireModel):
    """What a message request and a check-in both show: they are rows of one queue (docs/design.md, Check-ins)."""

    id: str
    status: Status
    scheduled_for: int
    agent_id: str
    webhook_id: str
    reference: str
    attempts: int
    last_error: str | None
    last_status_code: int | None
    delivered_at: int | None
    created_at: int
    updated_at: int

    @staticmethod
    def queued(row: MessageRequest) -> dict[str, Any]:
        """The shared fields' values, for a subclass's constructor."""
        return {name: getattr(row, name) for name in QueuedOut.model_fields}


class MessageRequestOut(QueuedOut):
    scheduled_for: int = Field(
        description="When the reply arrives (after a failed attempt: when it is tried again), unix seconds."
    )
    conversation_id: str | None
    superseded_by: str | None = Field(
        description="When `superseded`: the newer request of the conversation whose reply answers this one too."
    )
    group_id: str | None
    turn: int = Field(description="In a group: this reply's turn in its exchange (1 answers the user's message).")
    follows: str | None = Field(description="In a group: the request whose reply this one answers (turn 2 on).")
    read_at: int | None = Field(
        description="When the agent read the messages (the `message.read` moment, sent or not), unix seconds; "
        "null until then."
    )
    typing_at: int | None = Field(
        description="When the agent started typing the reply (the `agent.typing` moment, sent or not), unix "
        "seconds; null until then, and for a reply that is not typed (`delay`, or an agent without a typing speed)."
    )

    @classmethod
    def of(cls, request: MessageRequest) -> MessageRequestOut:
        return cls(
            **cls.queued(request),
            conversation_id=request.conversation_id,
            superseded_by=request.superseded_by,
            group_id=request.group_id,
            turn=request.turn,
            follows=request.follows,
            read_at=request.read_at,
            typing_at=request.typing_started_at,
        )


class MessageRequestPage(PageOut):
    data: list[MessageRequestOut]


class MessageRequestQuery(PageQuery):
    status: Status | None = None
    agent_id: str | None = Field(None, max_length=100)
    reference: str | None = Field(None, max_length=500)
    conversation_id: str | None = Field(None, max_length=CONVERSATION_ID_MAX)
    group_id: str | None = Field(None, max_length=100)


class AttemptOut(WireModel):
    attempted_at: int
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptOut:
        return cls(
            attempted_at=attempt.attempted_at,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            error=attempt.error,
            response_body=attempt.response_body,
        )


class AttemptList(WireModel):
    data: list[AttemptOut]
