"""Wire models of the OpenAI-compatible face (/v1): Chat Completions requests, and the answers' shapes.

snake_case as OpenAI writes it, and lenient the way its clients expect: fields that do not change a
persona's reply (seed, penalties, store…) are accepted and ignored, while the ones novaro-lite cannot honour
(tools, n > 1, logprobs, a JSON response format, audio) are refused with a 400 naming them. Every field the
server reads is typed here, so a value of the wrong type is a 400 naming it, never a crash.
https://platform.openai.com/docs/api-reference/chat/create
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from novaro_lite.api.schemas.messages import CONTENT_MAX
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.messages import Sampling, Usage

MAX_MESSAGES = 1000  # chat UIs resend the whole history; the model's context window is the real limit
MAX_STOP = 4


class OpenAIModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class ContentPart(OpenAIModel):
    type: str = Field(max_length=50)
    text: str | None = Field(None, max_length=CONTENT_MAX)


class ChatMessageIn(OpenAIModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: (
        Annotated[str, Field(max_length=CONTENT_MAX)] | Annotated[list[ContentPart], Field(max_length=100)] | None
    ) = None


class StreamOptions(OpenAIModel):
    include_usage: bool = False


Stop = Annotated[str, Field(max_length=200)]


class ChatCompletionRequest(OpenAIModel):
    model: str = Field(min_length=1, max_length=300, description="An agent id, or agent:NAME for a unique name.")
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, le=1_000_000)
    max_completion_tokens: int | None = Field(None, ge=1, le=1_000_000)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    stop: Stop | Annotated[list[Stop], Field(max_length=MAX_STOP)] | None = None
    user: str | None = Field(None, max_length=256)
    n: int | None = Field(None, ge=1, le=128)
    metadata: dict[str, Any] | None = Field(None, description="`contextIds`: context ids (a list or comma-separated).")
    # Read only to refuse what a persona agent does not do:
    modalities: list[str] | None = Field(None, max_length=10, description='Output kinds; only ["text"].')
    audio: dict[str, Any] | None = Field(None, description="Refused: agents answer in text.")
    tools: list[Any] | None = Field(None, description="Refused when not empty: agents make no tool calls.")
    functions: list[Any] | None = Field(None, description="Refused when not empty: agents make no tool calls.")
    tool_choice: str | dict[str, Any] | None = Field(None, description='Only "none".')
    function_call: str | dict[str, Any] | None = Field(None, description='Only "none".')
    logprobs: bool | None = Field(None, description="Refused when true.")
    top_logprobs: int | None = Field(None, ge=0, le=20, description="Refused when not 0.")
    response_format: dict[str, Any] | None = Field(None, description='Only {"type": "text"}.')

    def sampling(self) -> Sampling:
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        limit = self.max_completion_tokens or self.max_tokens
        return Sampling(max_tokens=limit, temperature=self.temperature, top_p=self.top_p, stop=stop)


def model_entry(agent: Agent) -> dict[str, Any]:
    """One agent as an OpenAI model object (`name` is extra; chat UIs such as Open WebUI show it)."""
    return {
        "id": agent.id,
        "object": "model",
        "created": agent.created_at,
        "owned_by": agent.account,
        "name": agent.name,
    }


def usage_of(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


def completion(reply_id: str, created: int, model: str, content: str, usage: Usage) -> dict[str, Any]:
    message = {"role": "assistant", "content": content, "refusal": None}
    return {
        "id": reply_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": usage_of(usage),
    }
