"""When a humanlike reply happens (docs/design.md, Arrival): the agent reads, starts typing, the reply arrives.

The drawn delay (timing.py) is the moment the reply arrives. The agent opens the chat (`message.read`) up
to READ_LEAD_SECONDS before that, the reply is written then, and typing is placed to end at the drawn
moment. Only physics stretches it: a reply that takes longer to type than the time left after reading
arrives when its typing ends, later than drawn by at most its typing time. Sleep wins over all of it.

Every function takes the times the server sees (divided by `time_scale`) and judges sleep on the model
clock: a request's own `ModelClock`, which runs `time_scale` times faster from the moment it arrived.
Pure, seeded by the injected `random.Random`; no clock, no I/O, and none of starlette, httpx, aiosqlite,
apscheduler or click.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence

from novaro_lite.domain.agents import Agent, ResponseBand
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.timing import WAKE_DRAW_SECONDS, is_awake, next_wake, schedule_reply

READ_LEAD_SECONDS = 180.0  # the agent opens the chat this long before its reply arrives (or at once, if sooner)
TYPING_SPREAD = 0.2  # each reply is typed at the agent's speed times a uniform draw in [0.8, 1.2]
CHARS_PER_WORD = 5  # the typists' convention: a "word" is five characters, spaces included
BUBBLE_PAUSE_SECONDS = 1.0  # the beat between sending one bubble and starting to type the next
MAX_TYPING_SECONDS = 15 * 60  # nobody types a chat reply for longer; a longer text is pasted in
# A Chinese, Japanese or Korean character is several keys through an input method (pinyin, kana, jamo): a
# typist doing 200 Latin characters a minute writes about 60-70 hanzi or kana. Each counts as this many.
WIDE_KEYSTROKES = 3
# Hangul jamo and syllables, CJK radicals, kana and ideographs (and their extensions), halfwidth kana and
# jamo: the characters typed through an input method (not the CJK punctuation or fullwidth Latin, one key each).
_WIDE = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff66-\uffdc\U00020000-\U0003ffff]"
)
_SLEEP_PROBE_SECONDS = 10  # sleep windows are whole minutes long, so probing every 10 s cannot miss one
_MAX_MOVES = 8  # as in timing.py: a window shorter than WAKE_DRAW_SECONDS can land a moved time in sleep


@dataclasses.dataclass(frozen=True)
class ModelClock:
    """The agent's clock for one request: `scale` times faster than the server's from `anchor` on."""

    anchor: float
    scale: float = 1.0

    def model(self, at: float) -> float:
        return self.anchor + (at - self.anchor) * self.scale

    def real(self, model: float) -> float:
        return self.anchor + (model - self.anchor) / self.scale


@dataclasses.dataclass(frozen=True)
class Plan:
    """When the agent opens the chat, and when its reply arrives (the drawn moment)."""

    read_at: float
    arrive_at: float

    def shifted(self, seconds: float) -> Plan:
        return Plan(self.read_at + seconds, self.arrive_at + seconds)


def plan_reply(
    agent: Agent,
    received_at: float,
    rng: random.Random,
    *,
    bands: Sequence[ResponseBand] | None = None,
    time_scale: float = 1.0,
) -> Plan:
    """Draw when the reply to a message received at `received_at` arrives, and when the agent reads it.

    The read is READ_LEAD_SECONDS before the arrival, never before the message (or the agent's wake-up),
    and never with a sleep between it and the arrival.
    """
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    clock = ModelClock(received_at, time_scale)
    arrive = schedule_reply(agent, received_at, rng, bands=bands)
    read = max(next_wake(agent, received_at), arrive - READ_LEAD_SECONDS)
    return Plan(clock.real(_awake_since(agent, read, arrive)), clock.real(arrive))


def plan_check_in(agent: Agent, now: float, drawn: float, *, time_scale: float = 1.0) -> Plan:
    """A check-in's plan: it arrives at its `drawn` moment (model time, domain/check_ins.py); the agent writes it
    up to READ_LEAD_SECONDS before (not before now), awake from then until it arrives."""
    clock = ModelClock(now, time_scale)
    write = max(now, drawn - READ_LEAD_SECONDS)
    return Plan(clock.real(_awake_since(agent, write, drawn)), clock.real(drawn))


def first_awake(agent: Agent, at: float, rng: random.Random, clock: ModelClock) -> float:
    """`at` if the agent is awake then, else a moment within WAKE_DRAW_SECONDS of its next wake-up."""
    model = clock.model(at)
    if is_awake(agent, model):
        return at
    for _ in range(_MAX_MOVES):
        model = next_wake(agent, model) + rng.uniform(0, WAKE_DRAW_SECONDS)
        if is_awake(agent, model):
            break
    return clock.real(next_wake(agent, model))


def chars_per_second(agent: Agent, rng: random.Random) -> float | None:
    """The typing speed of one reply (words a minute, ±TYPING_SPREAD); None if the agent does not type."""
    if agent.typing_speed_wpm is None:
        return None
    spread = rng.uniform(1 - TYPING_SPREAD, 1 + TYPING_SPREAD)
    return agent.typing_speed_wpm * spread * CHARS_PER_WORD / 60


def keystrokes(text: str) -> int:
    """How many characters' worth of typing `text` takes: WIDE_KEYSTROKES for each typed through an input
    method (Chinese, Japanese, Korean), 1 for any other."""
    if text.isascii():
        return len(text)
    return len(text) + (WIDE_KEYSTROKES - 1) * len(_WIDE.findall(text))


def bubble_offsets(bubbles: Sequence[str], speed: float) -> list[float]:
    """Seconds after the agent starts typing at which each bubble is sent (the last: the whole typing time)."""
    offsets, at = [], 0.0
    for index, bubble in enumerate(bubbles):
        at += (BUBBLE_PAUSE_SECONDS if index else 0.0) + keystrokes(bubble) / speed
        offsets.append(at)
    if offsets and offsets[-1] > MAX_TYPING_SECONDS:
        offsets = [offset * MAX_TYPING_SECONDS / offsets[-1] for offset in offsets]
    return offsets


@dataclasses.dataclass(frozen=True)
class TypedReply:
    """A reply's bubbles timestamped as typed from `started_at`; it arrives at `until`."""

    messages: tuple[ChatMessage, ...]
    started_at: float
    until: float


def type_reply(
    agent: Agent, bubbles: Sequence[str], now: float, arrive_at: float, rng: random.Random, clock: ModelClock
) -> TypedReply:
    """Place the typing of a reply written at `now` to end at `arrive_at`, or as soon after as physics allows.

    Typing never starts in sleep (it waits for the wake-up) and is hurried to end before the next sleep.
    An agent without a typing speed sends every bubble at `arrive_at` (or now, if that has passed).
    """
    speed = chars_per_second(agent, rng)
    if speed is None:
        at = first_awake(agent, max(now, arrive_at), rng, clock)
        return TypedReply(tuple(ChatMessage("assistant", bubble, int(at)) for bubble in bubbles), at, at)
    offsets = bubble_offsets(bubbles, speed)
    length = offsets[-1] if offsets else 0.0
    start = clock.model(first_awake(agent, max(now, arrive_at - length / clock.scale), rng, clock))
    span = _awake_span(agent, start, length)
    if span < length:  # hurried: the same rhythm, squeezed to end before sleep
        offsets = [offset * span / length for offset in offsets]
    times = [clock.real(start + offset) for offset in offsets]
    stamped = tuple(ChatMessage("assistant", bubble, int(at)) for bubble, at in zip(bubbles, times, strict=True))
    return TypedReply(stamped, clock.real(start), times[-1] if times else clock.real(start))


def _awake_since(agent: Agent, start: float, end: float) -> float:
    """The first moment in [start, end] (model times) from which the agent stays awake until `end`."""
    probe = end
    while probe > start:
        step = max(probe - _SLEEP_PROBE_SECONDS, start)
        if not is_awake(agent, step):
            low, high = step, probe  # asleep at low, awake from high on: find the wake-up
            while high - low > 0.001:
                middle = (low + high) / 2
                low, high = (low, middle) if is_awake(agent, middle) else (middle, high)
            return high
        probe = step
    return start


def _awake_span(agent: Agent, start: float, length: float) -> float:
    """How much of [start, start + length] (model seconds) passes before the agent falls asleep."""
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
