"""One person in one conversation (docs/design.md, Conversations): presence, superseding, one reply after another.

Pure functions of an agent, unix times and an injected `random.Random`, built on arrival.py; no clock, no
I/O, and none of starlette, httpx, aiosqlite, apscheduler or click.

- A message that arrives while the agent is online in its conversation (a session that starts when a
  reply there is delivered) draws its reply's arrival from the online table; any other gets the published
  table.
- A new message supersedes a still-unread one of the same conversation: the agent answers both at once,
  no later than it would have answered the first (or sooner, if the new one's own draw says so).
- A message that arrives while the agent is answering the conversation is read after that reply arrives.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from novaro_lite.domain.agents import Agent, ResponseBand
from novaro_lite.domain.arrival import Plan, plan_reply

ONLINE_RESPONSE_TIMES: tuple[ResponseBand, ...] = (
    ResponseBand(up_to_seconds=30, probability=0.60),
    ResponseBand(up_to_seconds=2 * 60, probability=0.30),
    ResponseBand(up_to_seconds=5 * 60, probability=0.10),
)
CONVERSATION_ID_MAX = 200


def online_bands(agent: Agent) -> tuple[ResponseBand, ...]:
    return agent.online_response_times or ONLINE_RESPONSE_TIMES


def is_online(agent: Agent, online_until: float | None, at: float) -> bool:
    """Tell whether the agent is still in the conversation at `at` (presence off: never)."""
    return agent.presence.enabled and online_until is not None and at < online_until


def plan_message(
    agent: Agent, received_at: float, online_until: float | None, rng: random.Random, *, time_scale: float = 1.0
) -> Plan:
    """Plan the reply to a message: from the online table inside a session, else the published one."""
    bands = online_bands(agent) if is_online(agent, online_until, received_at) else None
    return plan_reply(agent, received_at, rng, bands=bands, time_scale=time_scale)


def superseding_plan(own: Plan, unread: Sequence[Plan]) -> Plan:
    """The plan of a message that supersedes unread ones: the one whose reply arrives first."""
    return min([own, *unread], key=lambda plan: plan.arrive_at)


def plan_after_busy(agent: Agent, own: Plan, busy_until: float, rng: random.Random, *, time_scale: float = 1.0) -> Plan:
    """A message that arrives while the agent is answering the conversation is read after that reply.

    Its own plan stands if it reads after `busy_until` (when the earlier reply arrives) anyway; otherwise it
    is drawn from the online table counting from then: the agent is there.
    """
    if own.read_at >= busy_until:
        return own
    return plan_reply(agent, busy_until, rng, bands=online_bands(agent), time_scale=time_scale)


def session_end(agent: Agent, delivered_at: float, rng: random.Random, *, time_scale: float = 1.0) -> float | None:
    """When the agent leaves the conversation after a reply delivered at `delivered_at`; None if presence is off."""
    if not agent.presence.enabled:
        return None
    return delivered_at + rng.expovariate(1 / (agent.presence.mean_session_minutes * 60)) / time_scale
