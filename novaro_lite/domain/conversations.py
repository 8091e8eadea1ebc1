"""One person in one conversation (docs/design.md, Conversations): presence, superseding and typing time.

Pure functions of an agent, unix times and an injected `random.Random`, built on timing.py; no clock, no
I/O, and none of starlette, httpx, aiosqlite, apscheduler or click.

- A message that arrives while the agent is online in its conversation (a session that starts when a
  reply there is delivered) draws its delay from the online table; any other gets the published table.
- A new message supersedes a still-unread one of the same conversation: the agent opens the chat when it
  would have answered the first (or sooner, if the new one's own draw says so) and answers both at once.
- A reply is delivered when its last bubble is typed: the read time plus the typing time of its text.
- Nothing happens while the agent sleeps: typing that would run into the night is hurried to end before it.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

from novaro_lite.domain.agents import Agent, ResponseBand
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.timing import is_awake, schedule_reply

ONLINE_RESPONSE_TIMES: tuple[ResponseBand, ...] = (
    ResponseBand(up_to_seconds=30, probability=0.60),
    ResponseBand(up_to_seconds=2 * 60, probability=0.30),
    ResponseBand(up_to_seconds=5 * 60, probability=0.10),
)
CONVERSATION_ID_MAX = 200
TYPING_SPREAD = 0.2  # each reply is typed at the agent's speed times a uniform draw in [0.8, 1.2]
CHARS_PER_WORD = 5  # the typists' convention: a "word" is five characters, spaces included
BUBBLE_PAUSE_SECONDS = 1.0  # the beat between sending one bubble and starting to type the next
MAX_TYPING_SECONDS = 15 * 60  # nobody types a chat reply for longer; a longer text is pasted in
_SLEEP_PROBE_SECONDS = 10  # sleep windows are whole minutes long, so probing every 10 s cannot miss one


def online_bands(agent: Agent) -> tuple[ResponseBand, ...]:
    return agent.online_response_times or ONLINE_RESPONSE_TIMES


def is_online(agent: Agent, online_until: float | None, at: float) -> bool:
    """Tell whether the agent is still in the conversation at `at` (presence off: never)."""
    return agent.presence.enabled and online_until is not None and at < online_until


def schedule_message(
    agent: Agent, received_at: float, online_until: float | None, rng: random.Random, *, time_scale: float = 1.0
) -> float:
    """Return when the agent reads a message: from the online table inside a session, else the published one."""
    bands = online_bands(agent) if is_online(agent, online_until, received_at) else None
    return schedule_reply(agent, received_at, rng, time_scale=time_scale, bands=bands)


def superseding_due(own_due: float, unread_dues: Sequence[float]) -> float:
    """The due time of a message that supersedes unread ones: when the agent would have opened the first."""
    return min([own_due, *unread_dues])


def due_after_busy(
    agent: Agent, own_due: float, busy_until: float, rng: random.Random, *, time_scale: float = 1.0
) -> float:
    """A message that arrives while the agent is answering the conversation waits for that reply first.

    It is read after `busy_until` (the earlier reply's time), from the online table: the agent is there.
    """
    after = schedule_reply(agent, busy_until, rng, time_scale=time_scale, bands=online_bands(agent))
    return max(own_due, after)


def session_end(agent: Agent, delivered_at: float, rng: random.Random, *, time_scale: float = 1.0) -> float | None:
    """When the agent leaves the conversation after a reply delivered at `delivered_at`; None if presence is off."""
    if not agent.presence.enabled:
        return None
    return delivered_at + rng.expovariate(1 / (agent.presence.mean_session_minutes * 60)) / time_scale


def chars_per_second(agent: Agent, rng: random.Random) -> float | None:
    """The typing speed of one reply (words a minute, ±TYPING_SPREAD); None if the agent does not type."""
    if agent.typing_speed_wpm is None:
        return None
    spread = rng.uniform(1 - TYPING_SPREAD, 1 + TYPING_SPREAD)
    return agent.typing_speed_wpm * spread * CHARS_PER_WORD / 60


def bubble_offsets(bubbles: Sequence[str], speed: float) -> list[float]:
    """Seconds after the agent starts typing at which each bubble is sent (the last: the whole typing time)."""
    offsets, at = [], 0.0
    for index, bubble in enumerate(bubbles):
        at += (BUBBLE_PAUSE_SECONDS if index else 0.0) + len(bubble) / speed
        offsets.append(at)
    if offsets and offsets[-1] > MAX_TYPING_SECONDS:
        offsets = [offset * MAX_TYPING_SECONDS / offsets[-1] for offset in offsets]
    return offsets


@dataclasses.dataclass(frozen=True)
class TypedReply:
    """A reply's bubbles timestamped as typed from `started_at`; it is delivered at `until`."""

    messages: tuple[ChatMessage, ...]
    started_at: float
    until: float


def type_reply(
    agent: Agent, bubbles: Sequence[str], started_at: float, rng: random.Random, *, time_scale: float = 1.0
) -> TypedReply:
    """Timestamp the bubbles as typed from `started_at`, ending before the agent's next sleep begins."""
    speed = chars_per_second(agent, rng)
    if speed is None:
        stamped = tuple(ChatMessage("assistant", bubble, int(started_at)) for bubble in bubbles)
        return TypedReply(stamped, started_at, started_at)
    offsets = bubble_offsets(bubbles, speed)
    span = _awake_span(agent, started_at, offsets[-1] if offsets else 0.0)
    if offsets and span < offsets[-1]:  # hurried: the same rhythm, squeezed to end before sleep
        offsets = [offset * span / offsets[-1] for offset in offsets]
    times = [started_at + offset / time_scale for offset in offsets]
    stamped = tuple(ChatMessage("assistant", bubble, int(at)) for bubble, at in zip(bubbles, times, strict=True))
    return TypedReply(stamped, started_at, times[-1] if times else started_at)


def _awake_span(agent: Agent, start: float, length: float) -> float:
    """How much of [start, start + length] (model seconds) passes before the agent falls asleep."""
    if not is_awake(agent, start):  # a scaled-down demo clock may start anywhere; do not second-guess it
        return length
    probe = 0.0
    while probe < length:
        step = min(probe + _SLEEP_PROBE_SECONDS, length)
        if not is_awake(agent, start + step):
            low, high = probe, step  # awake at low, asleep at high: find the last awake moment
            while high - low > 0.001:
                middle = (low + high) / 2
                low, high = (middle, high) if is_awake(agent, start + middle) else (low, middle)
            return low
        probe = step
    return length
