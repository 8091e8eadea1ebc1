"""POST /api/v1/messages with `groupId`: a group's replies now, one speaker after another, whole or streamed.

Who speaks is chosen as for an async group request (domain/groups.py, read through delivery/groups.py, with
the same seed giving the same speakers), and each reply is generation.py's, in its speaker's own voice, seeing
the replies before it. No timing: the caller asked for the replies now.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import AsyncGenerator, Sequence

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.groups import speaking
from novaro_lite.api.schemas.messages import (
    GroupMessagesResponse,
    GroupReplyOut,
    GroupStopOut,
    MessageOut,
    MessagesRequest,
    UsageOut,
)
from novaro_lite.api.web.deps import caller, json_response, services
from novaro_lite.api.web.sse import Event, reply_event, started
from novaro_lite.delivery import groups
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.chance import UNSEEDED
from novaro_lite.domain.groups import Group, turn_rng
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.messages import ChatMessage, Usage
from novaro_lite.errors import ProviderError
from novaro_lite.generation import Extras, generate_reply, stream_reply
from novaro_lite.services import Services


@dataclasses.dataclass
class Exchange:
    """A group exchange written now: the transcript so far, and whose turn is next."""

    services: Services
    group: Group
    agents: dict[str, Agent]
    messages: list[ChatMessage]
    seed: int | None
    requested: tuple[str, ...]
    context_ids: Sequence[str]
    turn: int = 0
    answering: tuple[str, str | None] = ("", None)
    rng: random.Random = dataclasses.field(default_factory=lambda: UNSEEDED)  # without a seed

    def __post_init__(self) -> None:
        self.answering = groups.answering(self.messages[-1])

    async def next_speaker(self) -> tuple[Agent, Extras] | None:
        """The next turn's speaker and what it knows of the group; None when the exchange ends."""
        number = self.turn + 1
        rng = turn_rng(self.seed, number, self.rng)
        svc = self.services
        turn = await groups.plan_next(
            svc, self.group, self.agents, None, self.answering, number, svc.clock(), rng, self.requested
        )
        if turn is None:
            return None
        self.turn, agent = number, self.agents[turn.agent_id]
        is_new = not groups.has_spoken(agent.id, self.messages)
        return agent, Extras(scene=await groups.scene(svc, self.group, self.agents, agent, is_new))

    def said(self, agent: Agent, reply: Sequence[ChatMessage], usage: Usage) -> GroupReplyOut:
        """Add `agent`'s reply to the transcript, for the turns after it."""
        self.messages += [dataclasses.replace(message, agent_id=agent.id) for message in reply]
        self.answering = ("\n\n".join(message.content for message in reply), agent.id)
        self.services.metrics.group_reply("realtime")
        return GroupReplyOut(
            agent_id=agent.id,
            name=agent.name,
            turn=self.turn,
            messages=[MessageOut.of(message) for message in reply],
            usage=UsageOut.of(usage),
        )


async def answer(request: Request, body: MessagesRequest) -> Response:
    assert body.group_id is not None
    svc = services(request)
    group, agents, requested = await speaking(svc, caller(request).account, body.group_id, body.agent_id)
    messages = [message.to_domain() for message in body.messages]
    exchange = Exchange(svc, group, agents, messages, body.seed, requested, body.context_ids)
    reply_id = new_id("msg", svc.clock())
    if body.stream:  # opening: the first speaker, then its first text (or the upstream's refusal)
        return await started(_events(reply_id, exchange), f"group reply {reply_id}", opening=2)
    replies: list[GroupReplyOut] = []
    stopped: GroupStopOut | None = None
    while (speaker := await exchange.next_speaker()) is not None:
        agent, extras = speaker
        try:
            reply = await generate_reply(svc, agent, tuple(exchange.messages), exchange.context_ids, extras)
        except ProviderError as exc:
            if not replies:  # nothing said yet: the failure is the answer
                raise
            # What was said is kept (it was written, and paid for): the exchange ends at this turn.
            stopped = GroupStopOut(agent_id=agent.id, name=agent.name, turn=exchange.turn, status=exc.status,
                                   detail=exc.detail)  # fmt: skip
            break
        replies.append(exchange.said(agent, reply.messages, reply.usage))
    return json_response(GroupMessagesResponse(id=reply_id, group_id=group.id, replies=replies, stopped=stopped))


async def _events(reply_id: str, exchange: Exchange) -> AsyncGenerator[Event]:
    """`speaker` before each speaker's `delta` and `message` events (bubbles name their writer), then `done`."""
    replies: list[dict[str, object]] = []
    while (speaker := await exchange.next_speaker()) is not None:
        agent, extras = speaker
        yield "speaker", {"agentId": agent.id, "name": agent.name, "turn": exchange.turn}
        bubbles: list[ChatMessage] = []
        usage: Usage | None = None
        items = stream_reply(exchange.services, agent, tuple(exchange.messages), exchange.context_ids, extras)
        async with contextlib.aclosing(items):
            async for item in items:
                if isinstance(item, Usage):
                    usage = item
                    continue
                name, data = reply_event(item)
                if isinstance(item, ChatMessage):
                    bubbles.append(item)
                    data = {**data, "agentId": agent.id}
                yield name, data
        assert usage is not None, "a streamed reply ends with its usage"
        out = exchange.said(agent, bubbles, usage)
        replies.append(out.model_dump(by_alias=True, include={"agent_id", "name", "turn", "usage"}))
    yield "done", {"id": reply_id, "groupId": exchange.group.id, "replies": replies}
