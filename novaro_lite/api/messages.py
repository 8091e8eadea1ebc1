"""POST /api/v1/messages: the agent's reply in the response, whole or streamed as server-sent events; with
`groupId`, a group's replies (group_messages.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api import group_messages
from novaro_lite.api.contexts import require_contexts
from novaro_lite.api.schemas.messages import MessageOut, MessagesAnswer, MessagesRequest, MessagesResponse, UsageOut
from novaro_lite.api.web.deps import caller, json_response, read_body, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.api.web.sse import Event, reply_event, started
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.messages import ChatMessage, Usage
from novaro_lite.generation import Delta, generate_reply, stream_reply


async def create_message(request: Request) -> Response:
    body = await read_body(request, MessagesRequest)
    await require_contexts(request, body.context_ids)
    if body.group_id is not None:
        return await group_messages.answer(request, body)
    assert body.agent_id is not None
    svc = services(request)
    agent = await svc.storage.agents.get(caller(request).account, body.agent_id)
    messages = [message.to_domain() for message in body.messages]
    if body.conversation_id is not None:
        ended = await svc.storage.check_ins.user_wrote(agent.id, body.conversation_id)
        if ended:
            svc.metrics.check_in("canceled", "user_wrote", ended)
    reply_id = new_id("msg", svc.clock())
    if body.stream:
        events = _events(reply_id, agent.id, stream_reply(svc, agent, messages, body.context_ids))
        return await started(events, f"reply {reply_id}")
    reply = await generate_reply(svc, agent, messages, body.context_ids)
    return json_response(
        MessagesResponse(
            id=reply_id,
            agent_id=agent.id,
            messages=[MessageOut.of(message) for message in reply.messages],
            usage=UsageOut.of(reply.usage),
        )
    )


async def _events(
    reply_id: str, agent_id: str, items: AsyncGenerator[Delta | ChatMessage | Usage]
) -> AsyncGenerator[Event]:
    async with contextlib.aclosing(items):
        async for item in items:
            if isinstance(item, Usage):
                yield (
                    "done",
                    {"id": reply_id, "agentId": agent_id, "usage": UsageOut.of(item).model_dump(by_alias=True)},
                )
            else:
                yield reply_event(item)


OPERATIONS = (
    Operation(
        "POST",
        f"{V1}/messages",
        "messages:create",
        create_message,
        "Get an agent's reply now, or a group's replies, whole or streamed",
        "messages",
        body=MessagesRequest,
        response=MessagesAnswer,
        errors=(404, 409),
        streams=True,
    ),
)
