"""Wire models of /api/v1/agents/{id}/prompt-preview: a sample conversation in, what the model would see out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from novaro_lite.api.schemas.messages import ContextIds, MessageIn
from novaro_lite.api.schemas.wire import WireModel
from novaro_lite.domain.contexts import Trigger


class PromptPreviewRequest(WireModel):
    messages: list[MessageIn] = Field(
        default_factory=list, max_length=200, description="A sample conversation, oldest first; none is a new chat."
    )
    context_ids: ContextIds = Field(
        default_factory=list, description="Contexts a request would add to the agent's own."
    )


class PromptMessage(WireModel):
    role: Literal["user", "assistant"]
    content: str = Field(description="As the model gets it: with the [sent …] time in front when it has one.")


class ContextUse(WireModel):
    id: str
    name: str
    keys: list[str] = Field(description="Empty: always in the prompt.")
    secondary_keys: list[str] = Field(description="With keys: one of these must occur as well (empty: no such rule).")
    scan_depth: int = Field(description="How many of the last messages its keys are looked for in.")
    entered: bool = Field(description="Whether it is in this prompt (a keyword context: one of its keys occurs).")
    why: Trigger = Field(
        description="always (no keys); key, key_and_secondary: in, as a key (and a secondary key) occurs;"
        " no_key: left out, none of its keys occurs; no_secondary_key: left out, a key occurs but no secondary key."
    )


class PromptPreview(WireModel):
    model: str = Field(description="The provider and model that would answer, as `provider/model`.")
    system: str = Field(description="The system prompt: persona, character fields, contexts, time and place.")
    messages: list[PromptMessage]
    contexts: list[ContextUse] = Field(description="The agent's and the request's contexts, in prompt order.")
