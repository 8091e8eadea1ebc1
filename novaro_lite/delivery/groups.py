"""Delivery's part in a group (docs/design.md, Groups): who answers next, when, and what each speaker knows.

Used when a group's message is accepted (turn 1), when a group reply is delivered (the next turn, answering
it) and by realtime group replies. The choice and the timing are domain/groups.py's; this module reads the
group, its members' agents and their presence in the chat.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Mapping, Sequence
from typing import Any

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.groups import Group, Turn, chat_key, plan_turn, turn_rng
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.persona import GroupScene, about
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.errors import NotFoundError
from novaro_lite.services import Services
from novaro_lite.storage.queue import FollowUp


async def members(services: Services, group: Group) -> dict[str, Agent]:
    """The group's members' agents by id, in member order (a member deleted meanwhile is left out)."""
    found: dict[str, Agent] = {}
    for member in group.members:
        try:
            found[member.agent_id] = await services.storage.agents.get(group.account, member.agent_id)
        except NotFoundError:
            continue
    return found


def answering(message: ChatMessage) -> tuple[str, str | None]:
    """What a turn answers: the message's text and its writer's agent id (None for the user)."""
    return message.content, message.agent_id if message.role == "assistant" else None


def last_said(messages: Sequence[ChatMessage]) -> tuple[str, str | None]:
    """What a turn answers in a transcript: its last writer's trailing messages, joined, and who wrote them."""
    last = messages[-1]
    if last.role != "assistant":
        return answering(last)
    run = list(itertools.takewhile(lambda m: m.role == "assistant" and m.agent_id == last.agent_id, reversed(messages)))
    return "\n\n".join(message.content for message in reversed(run)), last.agent_id


async def plan_next(
    services: Services,
    group: Group,
    agents: Mapping[str, Agent],
    conversation_id: str | None,
    answering: tuple[str, str | None],
    number: int,
    at: float,
    rng: random.Random,
    requested: Sequence[str] = (),
) -> Turn | None:
    """Turn `number` of an exchange, answering `answering` (text, and its writer's agent id: None for the user)
    delivered at `at`; each member's presence in the chat decides which of its tables times it."""
    online: dict[str, float | None] = {}
    if conversation_id is not None:
        key = chat_key(group.id, conversation_id)
        for agent_id in agents:
            online[agent_id] = await services.storage.conversations.online_until(agent_id, key)
    text, previous = answering
    scale = services.settings.delivery.time_scale
    return plan_turn(group, agents, text, previous, number, at, online, rng, requested=requested, time_scale=scale)


async def scene(
    services: Services, group: Group, agents: Mapping[str, Agent], speaker: Agent, is_new: bool
) -> GroupScene:
    """What `speaker` knows of the group; a speaker's first message in the chat (`is_new`) may use its card's
    group-only greetings."""
    others = tuple(
        (agent.id, agent.nickname or agent.name, about(agent)) for agent in agents.values() if agent.id != speaker.id
    )
    greetings: tuple[str, ...] = ()
    if is_new:
        extras = (await services.storage.agents.with_card_extras(speaker)).card_extras or {}
        greetings = _greetings(extras)
    return GroupScene(group.name, others, greetings)


def _greetings(extras: dict[str, Any]) -> tuple[str, ...]:
    found = extras.get("data", {}).get("group_only_greetings")
    return tuple(text for text in found if isinstance(text, str) and text.strip()) if isinstance(found, list) else ()


def has_spoken(agent_id: str, messages: Sequence[ChatMessage]) -> bool:
    return any(message.role == "assistant" and message.agent_id == agent_id for message in messages)


async def _group_of(services: Services, request: MessageRequest) -> tuple[Group, dict[str, Agent]] | None:
    """A group request's group and its members' agents; None for a one-to-one request or a group deleted since."""
    if request.group_id is None:
        return None
    try:
        group = await services.storage.groups.get(request.account, request.group_id)
    except NotFoundError:
        return None
    return group, await members(services, group)


async def request_scene(services: Services, request: MessageRequest, speaker: Agent) -> GroupScene | None:
    """The scene of a group request's speaker; None for a one-to-one request (or a group deleted meanwhile,
    whose reply is then written without one)."""
    found = await _group_of(services, request)
    if found is None:
        return None
    group, agents = found
    return await scene(services, group, agents, speaker, not has_spoken(speaker.id, request.messages or ()))


async def stand_in(services: Services, request: MessageRequest, rng: random.Random) -> tuple[str, Plan] | None:
    """Who takes a group turn whose speaker was deleted before it was written, and when its reply arrives: the
    turn drawn again among the members left, answering the same message, from now (None: the group is gone,
    nobody is left, the member a `manual` message named is the one deleted, or nobody takes a later turn)."""
    found = await _group_of(services, request)
    if found is None or not request.messages:
        return None
    group, agents = found
    now = services.clock()
    rng = turn_rng(request.seed, request.turn, rng, "stand-in")
    answered = last_said(request.messages)
    turn = await plan_next(services, group, agents, request.conversation_id, answered, request.turn, now, rng)
    if turn is None:
        return None
    return turn.agent_id, turn.plan if request.is_humanlike else Plan(now, now)


async def next_turn(
    services: Services, request: MessageRequest, reply: Sequence[ChatMessage], rng: random.Random
) -> FollowUp | None:
    """The request of the exchange's next turn, answering `reply` (delivered now), and its plan; None if the
    exchange ends. A request whose timing `delay` overrode is followed at once."""
    found = await _group_of(services, request) if request.turns_left > 0 else None
    if found is None:
        return None
    group, agents = found
    now, number = services.clock(), request.turn + 1
    text = "\n\n".join(message.content for message in reply)
    rng = turn_rng(request.seed, number, rng)
    turn = await plan_next(services, group, agents, request.conversation_id, (text, request.agent_id), number, now, rng)
    if turn is None:
        return None
    plan = turn.plan if request.is_humanlike else Plan(now, now)
    said = tuple(dataclasses.replace(message, agent_id=request.agent_id) for message in reply)
    follow = dataclasses.replace(
        request,
        id=new_id("req", now),
        agent_id=turn.agent_id,
        status="scheduled",
        scheduled_for=int(plan.arrive_at),
        arrive_at=plan.arrive_at,
        typing_at=None,
        attempts=0,
        generation_failures=0,
        last_error=None,
        last_status_code=None,
        delivered_at=None,
        created_at=int(now),
        updated_at=int(now),
        messages=(*(request.messages or ()), *said),
        reply=None,
        superseded_by=None,
        turn=number,
        turns_left=request.turns_left - 1,
        follows=request.id,
    )
    return follow, plan
