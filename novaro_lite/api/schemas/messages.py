"""Wire models of /api/v1/messages: a conversation in, the agent's reply out."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, JsonValue, RootModel, model_validator

from novaro_lite.api.schemas.wire import WireModel
from novaro_lite.domain import agents as rules
from novaro_lite.domain.conversations import CONVERSATION_ID_MAX
from novaro_lite.domain.messages import ChatMessage, Usage

CONTENT_MAX = 20_000
SEED_MAX = 2**31 - 1
# The fields a realtime message and an async request share, with one definition each.
Speaker = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=100,
        description="The agent who answers. With `groupId`, only for a `manual` group: the member who answers.",
    ),
]
ContextIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=20)]
GROUP_EXAMPLE: dict[str, JsonValue] = {
    "groupId": "grp_01jqz8w7b9d1f3h5k7m9p1r3t5",
    "seed": 7,
    "messages": [{"role": "user", "name": "Sam", "content": "Lena, are you coming tonight?"}],
}


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
    model_config = ConfigDict(json_schema_extra={"examples": [GROUP_EXAMPLE]})

    agent_id: Speaker = None
    group_id: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="A group instead of one agent: its members answer one after another (as many as the group's "
        "`maxAgentTurns` allows, each seeing the replies before it), chosen by the group's strategy.",
    )
    seed: int | None = Field(None, ge=0, le=SEED_MAX, description="With `groupId`: the same seed, the same speakers.")
    messages: list[MessageIn] = Field(min_length=1, max_length=200, description="The conversation, oldest first.")
    context_ids: ContextIds = Field(default_factory=list)
    stream: bool = Field(
        False,
        description="Answer text/event-stream: delta, message, done (or error) events; in a group, a speaker event "
        "names each speaker before its bubbles.",
    )
    conversation_id: str | None = Field(
        None,
        min_length=1,
        max_length=CONVERSATION_ID_MAX,
        description="Yours: the chat this message belongs to. The user wrote, so the agent's waiting check-ins "
        "there end.",
    )

    @model_validator(mode="after")
    def _one_speaker(self) -> MessagesRequest:
        if self.agent_id is None and self.group_id is None:
            raise ValueError("give `agentId` (one agent answers) or `groupId` (a group's members do)")
        return self


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


class GroupReplyOut(WireModel):
    """One member's reply in a group exchange."""

    agent_id: str
    name: str = Field(description="The speaker's name, to label its bubbles.")
    turn: int = Field(description="Its turn in the exchange: 1 answers the last message sent.")
    messages: list[MessageOut]
    usage: UsageOut


GROUP_RESPONSE_EXAMPLE: dict[str, JsonValue] = {
    "id": "msg_01jqz8x2a4c6e8g0j2l4n6q8s0",
    "groupId": "grp_01jqz8w7b9d1f3h5k7m9p1r3t5",
    "replies": [
        {
            "agentId": "agt_01jqz8v1b3d5f7h9k1m3p5r7t9",
            "name": "Lena",
            "turn": 1,
            "messages": [{"role": "assistant", "content": "Yes! I'll bring bread.", "createdAt": 1764054000}],
            "usage": {"provider": "openai", "model": "gpt-4o-mini", "promptTokens": 412, "completionTokens": 9},
        },
        {
            "agentId": "agt_01jqz8v2c4e6g8j0l2n4q6s8u0",
            "name": "Marco",
            "turn": 2,
            "messages": [{"role": "assistant", "content": "Then I'm making soup.", "createdAt": 1764054004}],
            "usage": {"provider": "openai", "model": "gpt-4o-mini", "promptTokens": 440, "completionTokens": 7},
        },
    ],
}


class GroupStopOut(WireModel):
    """The turn whose speaker's model failed after earlier speakers had replied: the exchange ends there."""

    agent_id: str
    name: str
    turn: int
    status: int = Field(description="The status the failure would have answered alone: 502, 503 or 504.")
    detail: str


class GroupMessagesResponse(WireModel):
    """A group's replies, in the order they were written."""

    model_config = ConfigDict(json_schema_extra={"examples": [GROUP_RESPONSE_EXAMPLE]})

    id: str
    group_id: str
    replies: list[GroupReplyOut] = Field(description="One per speaker's turn, oldest first.")
    stopped: GroupStopOut | None = Field(
        None,
        description="Set when a later speaker's model failed: the replies before it are kept and the exchange"
        " ends there (the first speaker's failure is the whole answer's: a 502, 503 or 504 problem).",
    )


class MessagesAnswer(RootModel[MessagesResponse | GroupMessagesResponse]):
    """One agent's reply (`agentId`), or a group's replies (`groupId`)."""
