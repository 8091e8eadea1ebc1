"""Wire models of /api/v1/messages: a conversation in, the agent's reply out."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from novaro_lite.api.schemas.wire import WireModel
from novaro_lite.domain import agents as rules
from novaro_lite.domain.conversations import CONVERSATION_ID_MAX
from novaro_lite.domain.messages import ChatMessage, Usage

CONTENT_MAX = 20_000


class MessageIn(WireModel):
    role: Literal["user", "assistant"]
    content: str = Field(min_length=1, max_length=CONTENT_MAX)
    created_at: int | None = Field(
        None, ge=0, le=rules.LATEST_TIMESTAMP, description="When it was sent, unix seconds; shown to the model."
    )
    name: str | None = Field(
        None, min_length=1, max_length=rules.NAME_MAX, description="A user message's writer, named to a group."
    )
    agent_id: str | None = Field(
        None, min_length=1, max_length=100, description="In a group: the member who wrote an assistant message."
    )

    @model_validator(mode="after")
    def _writer_fits_role(self) -> MessageIn:
        if self.name is not None and self.role != "user":
            raise ValueError("`name` names a user message's writer; an assistant message takes `agentId`")
        if self.agent_id is not None and self.role != "assistant":
            raise ValueError("`agentId` names an assistant message's writer; a user message takes `name`")
        return self

    def to_domain(self) -> ChatMessage:
        return ChatMessage(self.role, self.content, self.created_at, self.name, self.agent_id)


class MessagesRequest(WireModel):
    agent_id: str = Field(min_length=1, max_length=100)
    messages: list[MessageIn] = Field(min_length=1, max_length=200, description="The conversation, oldest first.")
    context_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=20)
    stream: bool = Field(False, description="Answer text/event-stream: delta, message, done (or error) events.")
    conversation_id: str | None = Field(
        None,
        min_length=1,
        max_length=CONVERSATION_ID_MAX,
        description="Yours: the chat this message belongs to. The user wrote, so the agent's waiting check-ins "
        "there end.",
    )


class MessageOut(WireModel):
    role: Literal["user", "assistant"]
    content: str
    created_at: int

    @classmethod
    def of(cls, message: ChatMessage) -> MessageOut:
        return cls(role=message.role, content=message.content, created_at=message.created_at or 0)


class UsageOut(WireModel):
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(
            provider=usage.provider,
            model=usage.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )


class MessagesResponse(WireModel):
    id: str
    agent_id: str
    messages: list[MessageOut]
    usage: UsageOut
