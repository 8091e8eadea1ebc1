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


class ModelObject(BaseModel):
    """An agent as an OpenAI model object (`name` is extra; chat UIs such as Open WebUI show it)."""

    id: str = Field(description="The agent's id: pass it as `model`.")
    object: Literal["model"] = "model"
    created: int
    owned_by: str = Field(description="The account the agent belongs to.")
    name: str = Field(description="The agent's name; `agent:NAME` also names it when no other agent has it.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The agent's reply; its bubbles joined by blank lines.")
    refusal: None = None


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: None = None
    finish_reason: Literal["stop", "length"] = Field(
        "stop", description="`length` when the model stopped at `max_tokens` (or its own limit): the reply is cut off."
    )


class ChatCompletion(BaseModel):
    """The whole reply (`stream: false`); with `stream: true` the answer is text/event-stream of
    chat.completion.chunk objects, ending with `data: [DONE]`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = Field(description="The agent's id.")
    choices: list[Choice]
    usage: CompletionUsage


class OpenAIErrorDetail(BaseModel):
    message: str
    type: Literal["invalid_request_error", "server_error"]
    param: str | None = Field(description="The request field at fault, e.g. `messages[2].content`.")
    code: str | None = Field(
        description="invalid_value, unsupported_parameter, ambiguous_model, model_not_found, invalid_api_key,"
        " rate_limit_exceeded…"
    )


class OpenAIError(BaseModel):
    """Every error under /v1, in OpenAI's shape (its clients parse it), instead of a problem."""

    error: OpenAIErrorDetail


def model_entry(agent: Agent) -> dict[str, Any]:
    """One agent as an OpenAI model object."""
    return ModelObject(id=agent.id, created=agent.created_at, owned_by=agent.account, name=agent.name).model_dump()


def finish_reason(usage: Usage) -> Literal["stop", "length"]:
    return "length" if usage.cut_off else "stop"


def usage_of(usage: Usage) -> dict[str, int]:
    total = usage.prompt_tokens + usage.completion_tokens
    return CompletionUsage(
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens, total_tokens=total
    ).model_dump()


def completion(reply_id: str, created: int, model: str, content: str, usage: Usage) -> dict[str, Any]:
    choice = Choice(index=0, message=AssistantMessage(content=content), finish_reason=finish_reason(usage))
    return ChatCompletion(
        id=reply_id, created=created, model=model, choices=[choice], usage=CompletionUsage(**usage_of(usage))
    ).model_dump()
