"""The OpenAI-compatible face: /v1/chat/completions and /v1/models, with the caller's agents as models.

Any OpenAI SDK or chat UI can talk to an agent: `model` is an agent id (or `agent:NAME` when the name is
unique in the account). Replies are made by novaro_lite.generation, exactly as /api/v1/messages makes them.
Errors here use OpenAI's shape (api/openai/errors.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from novaro_lite.api.contexts import require_contexts
from novaro_lite.api.openai.errors import OpenAIRequestError
from novaro_lite.api.schemas.openai import (
    ChatCompletion,
    ChatCompletionRequest,
    ModelList,
    ModelObject,
    completion,
    finish_reason,
    model_entry,
    usage_of,
)
from novaro_lite.api.web.deps import caller, read_body, services
from novaro_lite.api.web.operation import Operation
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.messages import ChatMessage, Usage
from novaro_lite.errors import AppError, NotFoundError
from novaro_lite.generation import Delta, Extras, generate_reply, stream_reply

logger = logging.getLogger(__name__)

AGENT_PREFIX = "agent:"
MAX_CONTEXTS = 20


def _refuse(param: str, message: str, code: str = "unsupported_parameter") -> OpenAIRequestError:
    """A 400 for `param` (dotted, e.g. messages.2.content), which the error names in OpenAI's way."""
    loc = [int(part) if part.isdigit() else part for part in param.split(".")]
    return OpenAIRequestError(message, code, errors=[{"loc": ["body", *loc], "msg": message}])


def _check_supported(body: ChatCompletionRequest) -> None:
    """400 naming the first field that asks for something a persona agent does not do."""
    for field, value in (("tools", body.tools), ("functions", body.functions)):
        if value:
            raise _refuse(field, f"'{field}' is not supported: agents answer in character, without tool calls.")
    for field, choice in (("tool_choice", body.tool_choice), ("function_call", body.function_call)):
        if choice not in (None, "none"):
            raise _refuse(field, f"'{field}' is not supported: agents answer in character, without tool calls.")
    if body.n is not None and body.n > 1:
        raise _refuse("n", "'n' greater than 1 is not supported: an agent gives one reply.")
    if body.logprobs or body.top_logprobs:
        raise _refuse("logprobs", "'logprobs' is not supported.")
    if body.response_format is not None and body.response_format.get("type") != "text":
        raise _refuse("response_format", "Only response_format {'type': 'text'} is supported: agents write chat text.")
    if body.audio or any(kind != "text" for kind in body.modalities or ()):
        raise _refuse("modalities", "Only text output is supported.")


def _text(body: ChatCompletionRequest, index: int) -> str:
    content = body.messages[index].content
    if content is None or isinstance(content, str):
        return content or ""
    for part in content:
        if part.type != "text":
            raise _refuse(f"messages.{index}.content", f"Content parts of type {part.type!r} are not supported.")
    return "\n".join(part.text or "" for part in content)


def _conversation(body: ChatCompletionRequest) -> tuple[str, list[ChatMessage]]:
    """The callers' system text (system and developer messages, in order) and the chat messages."""
    system: list[str] = []
    messages: list[ChatMessage] = []
    for index, message in enumerate(body.messages):
        if message.role in ("tool", "function"):
            raise _refuse(f"messages.{index}.role", f"Messages with role {message.role!r} are not supported.")
        text = _text(body, index)
        if message.role in ("system", "developer"):
            system.append(text)
        elif text.strip():
            messages.append(ChatMessage("user" if message.role == "user" else "assistant", text))
    if not messages:
        raise _refuse("messages", "'messages' must hold at least one user or assistant message with content.")
    return "\n\n".join(part for part in system if part.strip()), messages


def _context_ids(body: ChatCompletionRequest) -> list[str]:
    value = (body.metadata or {}).get("contextIds", [])
    ids = [part.strip() for part in value.split(",")] if isinstance(value, str) else value
    if not isinstance(ids, list) or not all(isinstance(item, str) and 0 < len(item) <= 100 for item in ids if item):
        raise _refuse("metadata.contextIds", "'metadata.contextIds' must be context ids: a list or comma-separated.")
    ids = [item for item in ids if item]
    if len(ids) > MAX_CONTEXTS:
        raise _refuse("metadata.contextIds", f"'metadata.contextIds' may name at most {MAX_CONTEXTS} contexts.")
    return ids


async def find_agent(request: Request, model: str) -> Agent:
    """The caller's agent that `model` names: its id, or agent:NAME when exactly one agent has that name."""
    storage, account = services(request).storage, caller(request).account
    missing = [{"loc": ["body", "model"], "msg": "no such agent"}]
    if model.startswith(AGENT_PREFIX):
        name = model.removeprefix(AGENT_PREFIX)
        found = await storage.agents.named(account, name)
        if not found:
            raise NotFoundError(f"The model {model!r} does not exist: no agent is named {name!r}.", errors=missing)
        if len(found) > 1:
            raise _refuse(
                "model",
                f"{len(found)} agents are named {name!r}; use the agent's id as the model instead.",
                "ambiguous_model",
            )
        return found[0]
    try:
        return await storage.agents.get(account, model)
    except NotFoundError:
        raise NotFoundError(
            f"The model {model!r} does not exist: use one of your agents' ids (GET /v1/models) or agent:NAME.",
            errors=missing,
        ) from None


async def chat_completions(request: Request) -> Response:
    body = await read_body(request, ChatCompletionRequest)
    _check_supported(body)
    system, messages = _conversation(body)
    context_ids = _context_ids(body)
    await require_contexts(request, context_ids, ("body", "metadata", "contextIds"))
    agent = await find_agent(request, body.model)
    svc = services(request)
    created = int(svc.clock())
    reply_id = "chatcmpl-" + new_id("msg", created).removeprefix("msg_")
    extras = Extras(system=system, sampling=body.sampling())
    if body.stream:
        events = stream_reply(svc, agent, messages, context_ids, extras)
        first = await anext(events)  # upstream failures before the first token are still plain errors
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        head = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": agent.id}
        chunks = _chunks(head, include_usage, first, events)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(_sse(chunks), media_type="text/event-stream", headers=headers)
    reply = await generate_reply(svc, agent, messages, context_ids, extras)
    content = "\n\n".join(message.content for message in reply.messages)
    return JSONResponse(completion(reply_id, created, agent.id, content, reply.usage))


async def _sse(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield f"data: {json.dumps(chunk, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()
    yield b"data: [DONE]\n\n"


def _choice(delta: dict[str, str], finish_reason: str | None = None) -> list[dict[str, Any]]:
    return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]


async def _chunks(
    head: dict[str, Any],
    include_usage: bool,
    first: Delta | ChatMessage | Usage,
    rest: AsyncGenerator[Delta | ChatMessage | Usage],
) -> AsyncIterator[dict[str, Any]]:
    """chat.completion.chunk objects: the role, content as it arrives (the reply's text as its bubbles say it,
    joined by blank lines: generation.stream_reply), the finish, then usage if asked for."""
    head = {**head, "usage": None} if include_usage else head
    yield {**head, "choices": _choice({"role": "assistant", "content": ""})}
    async with contextlib.aclosing(rest):
        item = first
        try:
            while True:
                if isinstance(item, Delta):
                    yield {**head, "choices": _choice({"content": item.text})}  # empty: a model thinking, still there
                elif isinstance(item, Usage):
                    yield {**head, "choices": _choice({}, finish_reason(item))}
                    if include_usage:
                        yield {**head, "choices": [], "usage": usage_of(item)}
                item = await anext(rest)
        except StopAsyncIteration:
            return
        except AppError as exc:  # the status line is sent: the stream itself must say that it failed
            yield {"error": {"message": exc.detail, "type": "server_error", "param": None, "code": None}}
        except Exception:
            logger.exception("streamed completion %s failed", head["id"])
            message = "The server hit an unexpected error; it has been logged."
            yield {"error": {"message": message, "type": "server_error", "param": None, "code": None}}


async def list_models(request: Request) -> Response:
    storage, account = services(request).storage, caller(request).account
    agents = await storage.agents.every(account)
    return JSONResponse({"object": "list", "data": [model_entry(agent) for agent in agents]})


async def get_model(request: Request) -> Response:
    """One model (agent), by id or agent:NAME; an unknown one is OpenAI's 404, `model_not_found` naming `model`.
    `/v1/models/` (an empty id, which the route's path parameter takes) is the list."""
    if not request.path_params["id"]:
        return await list_models(request)
    return JSONResponse(model_entry(await find_agent(request, request.path_params["id"])))


# The /v1 routes, documented in /openapi.json beside /api/v1 with their OpenAI-shaped errors.
OPERATIONS = (
    Operation(
        "POST",
        "/v1/chat/completions",
        "openai:chat",
        chat_completions,
        "Chat with an agent as an OpenAI model",
        "openai",
        body=ChatCompletionRequest,
        response=ChatCompletion,
        streams=True,
        errors=(404,),
        openai=True,
    ),
    Operation(
        "GET",
        "/v1/models",
        "openai:models",
        list_models,
        "List agents as OpenAI models",
        "openai",
        response=ModelList,
        openai=True,
    ),
    Operation(
        "GET",
        "/v1/models/{id:path}",  # agent:NAME may hold a slash ("agent:AC/DC"), as clients send it
        "openai:model",
        get_model,
        "Show an agent as an OpenAI model",
        "openai",
        response=ModelObject,
        openai=True,
    ),
)
