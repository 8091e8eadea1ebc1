"""Chat messages, usage and the per-request data a provider needs: plain frozen dataclasses."""

from __future__ import annotations

import dataclasses
from typing import Literal

from novaro_lite.domain.agents import Agent

Role = Literal["user", "assistant"]


@dataclasses.dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str
    created_at: int | None = None
    name: str | None = None  # the person who wrote a user message, when the caller names them
    agent_id: str | None = None  # in a group: the member who wrote an assistant message


@dataclasses.dataclass(frozen=True)
class Usage:
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cut_off: bool = False  # the model stopped at its token limit (max_tokens): the reply ends mid-way


@dataclasses.dataclass(frozen=True)
class Sampling:
    """Generation settings a caller may ask for (the OpenAI-compatible endpoint passes its own on)."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Prompt:
    """Everything a provider is given: the system prompt, the conversation, the model, and whom it speaks as.

    `purpose` is "reply" (an agent answers a chat; `agent` is set), "check_in" (the agent writes first;
    domain/check_ins.py's instruction ends the system prompt) or "agents" (write new personas as JSON; the
    last user message is the JSON request of domain/agent_batches.py).
    """

    system: str
    messages: tuple[ChatMessage, ...]
    model: str
    agent: Agent | None
    now: float
    purpose: Literal["reply", "check_in", "agents"] = "reply"
    sampling: Sampling = Sampling()


@dataclasses.dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
