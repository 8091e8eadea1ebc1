"""Groups: several agents in one chat (docs/design.md, Groups). Who answers a message, and when.

Pure functions of a group, its members' agents, the last message, unix times and an injected
`random.Random`, built on conversations.py's per-agent timing; no clock, no I/O.

- An exchange starts with a user's message and runs for at most `max_agent_turns` agent messages, agents
  answering each other included. Turn 1 answers the user; turn k + 1 answers turn k's reply.
- `natural`: a member named in the last message speaks first; otherwise a draw weighted by talkativeness.
  Turn 1 always has a speaker; a later turn happens only if the drawn member, by its talkativeness, wants to
  join in. Nobody speaks twice in a row unless it is alone in the group.
- `list`: members answer in member order, each once. `manual`: the caller names the speakers.
- Each speaker's reply is timed by its own table, presence and sleep, counted from when the message it
  answers was delivered: an agent asleep answers after it wakes, never in its sleep.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.conversations import plan_message

Strategy = Literal["natural", "list", "manual"]
STRATEGIES: tuple[Strategy, ...] = ("natural", "list", "manual")
MIN_MEMBERS, MAX_MEMBERS = 2, 10
DEFAULT_TALKATIVENESS = 50
DEFAULT_MAX_AGENT_TURNS = 2
MAX_AGENT_TURNS = 6  # a room must not talk to itself for long: six agent messages per user message at most
NAME_MAX = 100


@dataclasses.dataclass(frozen=True)
class Member:
    """An agent in a group; talkativeness 0-100 is how eagerly it speaks up when nobody named it."""

    agent_id: str
    talkativeness: int = DEFAULT_TALKATIVENESS


@dataclasses.dataclass(frozen=True)
class GroupFields:
    """What a client may set on a group."""

    name: str
    members: tuple[Member, ...]
    strategy: Strategy = "natural"
    max_agent_turns: int = DEFAULT_MAX_AGENT_TURNS


@dataclasses.dataclass(frozen=True, kw_only=True)
class Group(GroupFields):
    id: str
    account: str
    created_at: int
    updated_at: int

    def notice(self) -> str | None:
        """What is wrong with a group whose members were deleted (agents leave their groups), if anything."""
        if not self.members:
            return "Every member of this group was deleted; add agents before sending it messages."
        if len(self.members) < MIN_MEMBERS:
            return "Only one member is left in this group: it answers alone."
        return None


@dataclasses.dataclass(frozen=True)
class Seat:
    """A member as speaker choice sees it: its id, the names it answers to and its talkativeness."""

    agent_id: str
    names: tuple[str, ...]
    talkativeness: int


def seats(group: Group, agents: Mapping[str, Agent]) -> tuple[Seat, ...]:
    """The group's members that still exist, in member order."""
    return tuple(
        Seat(member.agent_id, _names(agents[member.agent_id]), member.talkativeness)
        for member in group.members
        if member.agent_id in agents
    )


def _names(agent: Agent) -> tuple[str, ...]:
    return (agent.name, agent.nickname) if agent.nickname else (agent.name,)


def mentioned(candidates: Sequence[Seat], text: str) -> list[str]:
    """The candidates named in `text` (a whole word, any case), in the order they are first named."""
    found: list[tuple[int, str]] = []
    for seat in candidates:
        positions = [
            match.start()
            for name in seat.names
            if name.strip()
            for match in [re.search(rf"(?<!\w){re.escape(name.strip())}(?!\w)", text, re.IGNORECASE)]
            if match is not None
        ]
        if positions:
            found.append((min(positions), seat.agent_id))
    return [agent_id for _, agent_id in sorted(found)]


def choose_speaker(
    strategy: Strategy,
    members: Sequence[Seat],
    text: str,
    previous: str | None,
    turn: int,
    rng: random.Random,
    requested: Sequence[str] = (),
) -> str | None:
    """Who speaks at `turn` (1: answering the user) after `previous` said `text`; None ends the exchange."""
    if not members:
        return None
    if strategy == "manual":
        return requested[turn - 1] if turn <= len(requested) else None
    if strategy == "list":
        return members[turn - 1].agent_id if turn <= len(members) else None
    candidates = [seat for seat in members if seat.agent_id != previous] or list(members)
    named = mentioned(candidates, text)
    if named:
        return named[0]
    weights = [seat.talkativeness for seat in candidates]
    if not any(weights):  # nobody is talkative: everyone is equally (un)likely
        weights = [1] * len(candidates)
    drawn = rng.choices(candidates, weights)[0]
    if turn == 1:  # the user is always answered
        return drawn.agent_id
    return drawn.agent_id if rng.random() * 100 < drawn.talkativeness else None


@dataclasses.dataclass(frozen=True)
class Turn:
    """One agent message of an exchange: who writes it, and when it reads and its reply arrives."""

    agent_id: str
    number: int
    plan: Plan


def plan_turn(
    group: Group,
    agents: Mapping[str, Agent],
    text: str,
    previous: str | None,
    turn: int,
    at: float,
    online_until: Mapping[str, float | None],
    rng: random.Random,
    *,
    requested: Sequence[str] = (),
    time_scale: float = 1.0,
) -> Turn | None:
    """The exchange's turn `turn`, answering `text` (by `previous`, None for the user) delivered at `at`.

    None once the group has had its `max_agent_turns` or nobody answers. The speaker's reply is due by its
    own timing: its online table while it is online in the chat (`online_until` by agent id), else its
    table, moved out of its sleep.
    """
    if turn > group.max_agent_turns:
        return None
    speaker = choose_speaker(group.strategy, seats(group, agents), text, previous, turn, rng, requested)
    if speaker is None:
        return None
    agent = agents[speaker]
    return Turn(speaker, turn, plan_message(agent, at, online_until.get(speaker), rng, time_scale=time_scale))


def turn_rng(seed: int | None, turn: int, fallback: random.Random, purpose: str = "turn") -> random.Random:
    """The random source of one turn's `purpose` (choosing and timing it, typing, presence): derived from the
    request's seed (the same speakers and times for the same seed, whatever ran before), else `fallback`."""
    return fallback if seed is None else random.Random(f"group/{seed}/{turn}/{purpose}")


def chat_key(group_id: str, conversation_id: str) -> str:
    """The conversation key of a group's chat for presence: apart from a one-to-one chat of the same id."""
    return f"{group_id}/{conversation_id}"
