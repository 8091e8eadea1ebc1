"""Response timing: when a human-like agent is awake and when its reply is due (docs/design.md, Timing).

Pure functions of an agent, a unix time and an injected `random.Random`; no clock, no I/O, and none of
starlette, httpx, aiosqlite, apscheduler or click. "Awake" is judged on the agent's local wall clock:
day D's window runs from start + jitter(D) to end + jitter(D) in wall-clock minutes from D's midnight,
where an end before the start falls on D + 1. The agent is awake inside any day's window.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import random
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from novaro_lite.domain.agents import Agent, ResponseBand, time_zone

DEFAULT_RESPONSE_TIMES: tuple[ResponseBand, ...] = (
    ResponseBand(up_to_seconds=60, probability=0.10),
    ResponseBand(up_to_seconds=5 * 60, probability=0.50),
    ResponseBand(up_to_seconds=15 * 60, probability=0.20),
    ResponseBand(up_to_seconds=30 * 60, probability=0.10),
    ResponseBand(up_to_seconds=90 * 60, probability=0.09),
    ResponseBand(up_to_seconds=24 * 60 * 60, probability=0.01),
)
JITTER_MINUTES = 15
WAKE_DRAW_SECONDS = 300  # a reply that would fall in the night comes this soon (at most) after waking
MINUTES_PER_DAY = 24 * 60
_MAX_MOVES = 8  # a window shorter than WAKE_DRAW_SECONDS can make a moved reply land in sleep again
# A window reaches at most a day plus JITTER_MINUTES past its own midnight, so days D-2..D+1 cover D.
_WINDOW_DAYS = (-2, -1, 0, 1)
# Day D-1's start can slip past midnight; a sleep lasts under a day plus twice the jitter, and a window
# lost in a DST gap costs one more day, so the next start is on D-1..D+3.
_START_DAYS = (-1, 0, 1, 2, 3)


def draw_delay(bands: Sequence[ResponseBand], rng: random.Random) -> float:
    """Seconds: pick a band by probability, then a uniform point inside [lower, upper)."""
    pick, cumulative, lower = rng.random(), 0.0, 0
    for band in bands[:-1]:
        cumulative += band.probability
        if pick < cumulative:
            break
        lower = band.up_to_seconds
    else:  # the last band takes the rest, even when the probabilities sum to a hair under 1
        band = bands[-1]
    upper = band.up_to_seconds
    # lower + width * r can round up to `upper` itself; the band is half-open.
    return min(lower + (upper - lower) * rng.random(), math.nextafter(upper, lower))


def day_jitter_minutes(agent_id: str, local_date: datetime.date) -> int:
    """Shift the agent's active window on this local date by a stable amount in [-JITTER, +JITTER] minutes."""
    # hashlib, not hash(): str hashes are salted per process, and the shift must survive restarts.
    digest = hashlib.sha256(f"{agent_id}/{local_date.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2 * JITTER_MINUTES + 1) - JITTER_MINUTES


def is_awake(agent: Agent, at: float) -> bool:
    """Tell whether unix time `at` falls inside the agent's active hours on its local wall clock."""
    start, end = _clock_minutes(agent.active_hours.start), _clock_minutes(agent.active_hours.end)
    if start == end:
        return True
    if end < start:
        end += MINUTES_PER_DAY
    local = datetime.datetime.fromtimestamp(at, time_zone(agent.timezone))
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    for shift in _WINDOW_DAYS:
        day = local.date() + datetime.timedelta(days=shift)
        jitter = day_jitter_minutes(agent.id, day)
        if start + jitter <= minute - shift * MINUTES_PER_DAY < end + jitter:
            return True
    return False


def next_wake(agent: Agent, at: float) -> float:
    """Return `at` if the agent is awake then, else the earliest later unix time at which it is awake."""
    if is_awake(agent, at):
        return at
    zone = time_zone(agent.timezone)
    start = _clock_minutes(agent.active_hours.start)
    today = datetime.datetime.fromtimestamp(at, zone).date()
    earliest: float | None = None
    for shift in _START_DAYS:
        day = today + datetime.timedelta(days=shift)
        wall = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(
            minutes=start + day_jitter_minutes(agent.id, day)
        )
        # An ambiguous start (clocks set back) happens twice; a start inside a DST gap never happens,
        # and the two folds then land either side of the gap.
        for fold in (0, 1):
            candidate = wall.replace(tzinfo=zone, fold=fold).timestamp()
            if candidate >= at and (earliest is None or candidate < earliest) and is_awake(agent, candidate):
                earliest = candidate
    if earliest is None:  # pragma: no cover - unreachable: every day has a window, at most one lost to a gap
        raise ValueError(f"agent {agent.id} never wakes after {at}")
    # Besides a window start, only a UTC offset change can wake the agent: the wall clock jumps into a window.
    change = _first_offset_change(zone, at, earliest)
    if change is not None and is_awake(agent, change):
        return change
    return earliest


def schedule_reply(
    agent: Agent,
    received_at: float,
    rng: random.Random,
    *,
    time_scale: float = 1.0,
    bands: Sequence[ResponseBand] | None = None,
) -> float:
    """Return the unix time the reply to a message received at `received_at` is due.

    The delay comes from `bands` when given (conversations.py passes the online table), else from the
    agent's own table or the published one.
    """
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    read_at = next_wake(agent, received_at)  # a message that arrives during sleep is read at wake-up
    due = read_at + draw_delay(bands or agent.response_times or DEFAULT_RESPONSE_TIMES, rng)
    for _ in range(_MAX_MOVES):
        if is_awake(agent, due):
            break
        due = next_wake(agent, due) + rng.uniform(0, WAKE_DRAW_SECONDS)
    due = next_wake(agent, due)  # after the bounded loop above, guarantee an awake due time
    return received_at + (due - received_at) / time_scale


def _clock_minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _utc_offset(zone: ZoneInfo, at: float) -> datetime.timedelta | None:
    return datetime.datetime.fromtimestamp(at, zone).utcoffset()


def _first_offset_change(zone: ZoneInfo, after: float, until: float) -> float | None:
    """Return the first whole second in (after, until] with a different UTC offset, if the offset changes."""
    before = _utc_offset(zone, after)
    if before == _utc_offset(zone, until):
        return None
    # Transitions fall on whole seconds, so flooring `after` keeps its offset.
    low, high = math.floor(after), math.ceil(until)
    while high - low > 1:
        middle = (low + high) // 2
        if _utc_offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return float(high)
