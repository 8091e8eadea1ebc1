"""POST /api/v1/messages: the agent's reply in the response, whole or streamed as server-sent events."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.contexts import require_contexts
from novaro_lite.api.deps import caller, json_response, read_body, services
from novaro_lite.api.operation import V1, Operation
from novaro_lite.api.problems import problem_body
from novaro_lite.api.schemas.messages import MessageOut, MessagesRequest, MessagesResponse, UsageOut
from novaro_lite.api.sse import Event, event_stream
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.messages import ChatMessage, Usage
from novaro_lite.errors import AppError
from novaro_lite.generation import Delta, generate_reply, stream_reply

logger = logging.getLogger(__name__)


async def create_message(request: Request) -> Response:
    body = await read_body(request, MessagesRequest)
    await require_contexts(request, body.context_ids)
    svc = services(request)
    agent = await svc.storage.agents.get(caller(request).account, body.agent_id)
    messages = [message.to_domain() for message in body.messages]
    if body.conversation_id is not None:
        ended = await svc.storage.check_ins.user_wrote(agent.id, body.conversation_id)
        if ended:
            svc.metrics.check_in("canceled", "user_wrote", ended)
    reply_id = new_id("msg", svc.clock())
    if body.stream:
        events = stream_reply(svc, agent, messages, body.context_ids)
        first = await anext(events)  # upstream failures before the first token are still plain problems
        return event_stream(_sse(reply_id, agent.id, first, events))
    reply = await generate_reply(svc, agent, messages, body.context_ids)
    return json_response(
        MessagesResponse(
            id=reply_id,
            agent_id=agent.id,
            messages=[MessageOut.of(message) for message in reply.messages],
            usage=UsageOut.of(reply.usage),
        )
    )


async def _sse(
    reply_id: str, agent_id: str, first: Delta | ChatMessage | Usage, rest: AsyncGenerator[Delta | ChatMessage | Usage]
) -> AsyncGenerator[Event]:
    """Turn reply items into SSE events; an error after the first byte becomes an `error` event."""
    async with contextlib.aclosing(rest):
        item = first
        try:
            while True:
                if isinstance(item, Delta):
                    yield "delta", {"text": item.text}
                elif isinstance(item, ChatMessage):
                    yield "message", MessageOut.of(item).model_dump(by_alias=True)
                else:
                    usage = UsageOut.of(item).model_dump(by_alias=True)
                    yield "done", {"id": reply_id, "agentId": agent_id, "usage": usage}
                item = await anext(rest)
        except StopAsyncIteration:
            return
        except AppError as exc:
            yield "error", problem_body(exc)
        except Exception:  # the status line is sent: the stream itself must say that it failed
            logger.exception("streamed reply %s failed", reply_id)
            yield "error", problem_body(AppError("The server hit an unexpected error; it has been logged."))


OPERATIONS = (
    Operation(
        "POST",
        f"{V1}/messages",
        "messages:create",
        create_message,
        "Get an agent's reply now, whole or streamed",
        "messages",
        body=MessagesRequest,
        response=MessagesResponse,
        errors=(404,),
        streams=True,
    ),
)
