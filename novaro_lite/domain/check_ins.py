"""Check-ins: a message the agent writes first, at a human moment (docs/design.md, Check-ins). Pure; no I/O.

A check-in's time is drawn, not fixed: inside its window, while the agent is awake (timing.py) and outside
the user's quiet hours on the user's own wall clock. Inside that allowed set the draw prefers natural
moments: the density is proportional to `moment_weight`, which is WAKE_WEIGHT in the hour and a half that
starts half an hour after the agent wakes, EVENING_WEIGHT in its evening (18:00 to 21:00, the agent's
time) and 1 otherwise. Like the reply table, the draw takes an injected `random.Random`, so a seed
reproduces it. Nothing here imports starlette, httpx, a database driver, apscheduler or click.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import random
from collections.abc import Sequence
from typing import Literal
from zoneinfo import ZoneInfo

from novaro_lite.domain.agents import Agent, time_zone
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.timing import MINUTES_PER_DAY, WAKE_DRAW_SECONDS, day_jitter_minutes, is_awake

WAKE_WEIGHT = 3.0
WAKE_AFTER_MINUTES = (30, 120)  # "a while after the agent wakes": this span of minutes after its wake-up
EVENING_WEIGHT = 2.0
EVENING_HOURS = (18, 21)  # the agent's evening, [18:00, 21:00) on its wall clock
MAX_WINDOW_SECONDS = 30 * 86400  # a check-in is drawn at most this far ahead (also bounds the work of a draw)
_MAX_TRIES = 200  # rejection sampling accepts at least 1 draw in WAKE_WEIGHT; 200 misses cost 1e-35
_OFFSET_PROBE_SECONDS = 3 * 3600
# How far first_allowed looks ahead: sleep and quiet hours repeat daily, so three days see past a DST change.
_RESUME_HORIZON_SECONDS = 3 * 86400  # UTC offsets change at most twice a year; probing every 3 h cannot miss one


# Why a check-in was canceled: the user wrote in its conversation (a message request or a realtime message), the
# agent was online in the conversation when it came due, or its client canceled it (DELETE).
CanceledReason = Literal["user_wrote", "conversation_active", "canceled"]
REASONS: tuple[CanceledReason, ...] = ("user_wrote", "conversation_active", "canceled")
# The rules that refuse a new check-in (409), each a setting of [check_ins] (config/sections.py).
Rule = Literal["pending", "daily_cap", "unanswered", "active"]
RULES: tuple[Rule, ...] = ("pending", "daily_cap", "unanswered", "active")


@dataclasses.dataclass(frozen=True)
class Rules:
    """The rules against spam, per agent and conversation ([check_ins] in the settings)."""

    max_pending: int = 1  # check-ins waiting in one conversation at a time
    daily_cap: int = 3  # check-ins scheduled or delivered in one conversation in 24 hours
    unanswered_limit: int = 2  # delivered in a row with no word from the user: no more until they write (0: off)
    not_while_active: bool = True  # none while the agent is online in the conversation or answering it


class NoMomentError(ValueError):
    """The window holds no moment at which the agent is awake and the user is not in quiet hours."""


@dataclasses.dataclass(frozen=True)
class QuietHours:
    """The user's do-not-disturb on the user's wall clock, [start, end) as HH:MM; start == end: none."""

    start: str = "22:00"
    end: str = "08:00"


@dataclasses.dataclass(frozen=True)
class Moment:
    """What a check-in's time is drawn within: a window of unix seconds, and the user's zone and quiet hours."""

    not_before: float
    not_after: float
    timezone: str
    quiet_hours: QuietHours


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _wall_minute(local: datetime.datetime) -> float:
    return local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60


def is_quiet(quiet: QuietHours, timezone: str, at: float) -> bool:
    """Tell whether unix time `at` falls in the user's quiet hours on the user's wall clock."""
    start, end = _minutes(quiet.start), _minutes(quiet.end)
    if start == end:
        return False
    minute = _wall_minute(datetime.datetime.fromtimestamp(at, time_zone(timezone)))
    return start <= minute < end if start < end else minute >= start or minute < end


def moment_weight(agent: Agent, at: float) -> float:
    """How much the draw prefers `at`: WAKE_WEIGHT a while after the agent wakes, EVENING_WEIGHT in its evening."""
    local = datetime.datetime.fromtimestamp(at, time_zone(agent.timezone))
    minute = _wall_minute(local)
    start = _minutes(agent.active_hours.start)
    if start != _minutes(agent.active_hours.end):  # an agent that never sleeps never wakes up
        for shift in (0, 1):  # a wake-up jittered before midnight belongs to the next day
            day = local.date() + datetime.timedelta(days=shift)
            since = minute + shift * MINUTES_PER_DAY - (start + day_jitter_minutes(agent.id, day))
            if WAKE_AFTER_MINUTES[0] <= since < WAKE_AFTER_MINUTES[1]:
                return WAKE_WEIGHT
    return EVENING_WEIGHT if EVENING_HOURS[0] <= local.hour < EVENING_HOURS[1] else 1.0


def _offset_changes(zone: ZoneInfo, start: float, end: float) -> list[float]:
    """The whole seconds in (start, end] at which the zone's UTC offset changes."""
    changes, low = [], math.floor(start)
    while low < end:
        high = min(low + _OFFSET_PROBE_SECONDS, math.ceil(end))
        before = datetime.datetime.fromtimestamp(low, zone).utcoffset()
        if datetime.datetime.fromtimestamp(high, zone).utcoffset() != before:
            first, last = low, high
            while last - first > 1:
                middle = (first + last) // 2
                first, last = (
                    (middle, last)
                    if datetime.datetime.fromtimestamp(middle, zone).utcoffset() == before
                    else (first, middle)
                )
            changes.append(float(last))
        low = high
    return changes


def _wall_points(zone: ZoneInfo, start: float, end: float, minutes_of: list[int], agent_id: str | None) -> list[float]:
    """The unix times of the given wall-clock minutes (jittered per day for an agent) on each day near [start, end].

    A wall time that happens twice (clocks set back) gives both; one inside a DST gap gives the two times either
    side of it, and the offset changes add the gap's own edge.
    """
    first = datetime.datetime.fromtimestamp(start, zone).date() - datetime.timedelta(days=2)
    last = datetime.datetime.fromtimestamp(end, zone).date() + datetime.timedelta(days=1)
    points, day = [], first
    while day <= last:
        jitter = day_jitter_minutes(agent_id, day) if agent_id is not None else 0
        midnight = datetime.datetime.combine(day, datetime.time())
        for minute in minutes_of:
            wall = midnight + datetime.timedelta(minutes=minute + jitter)
            for fold in (0, 1):
                at = wall.replace(tzinfo=zone, fold=fold).timestamp()
                if start < at < end:
                    points.append(at)
        day += datetime.timedelta(days=1)
    return points


def allowed_intervals(agent: Agent, moment: Moment) -> list[tuple[float, float]]:
    """The parts of the window in which the agent is awake and the user is not in quiet hours, in order.

    Between two consecutive edges (a wake-up or bedtime of the agent, a start or end of quiet hours, a UTC
    offset change of either zone) nothing changes, so each piece is judged at its middle.
    """
    start, end = moment.not_before, moment.not_after
    if end <= start:  # a window that has passed (drawn from now on, after a server was down): nothing is left
        return []
    agent_zone, user_zone = time_zone(agent.timezone), time_zone(moment.timezone)
    wake, sleep = _minutes(agent.active_hours.start), _minutes(agent.active_hours.end)
    edges = {start, end}
    if wake != sleep:
        edges.update(
            _wall_points(agent_zone, start, end, [wake, sleep + (MINUTES_PER_DAY if sleep < wake else 0)], agent.id)
        )
    quiet = moment.quiet_hours
    edges.update(_wall_points(user_zone, start, end, [_minutes(quiet.start), _minutes(quiet.end)], None))
    edges.update(_offset_changes(agent_zone, start, end))
    edges.update(_offset_changes(user_zone, start, end))
    ordered = sorted(edges)
    intervals: list[tuple[float, float]] = []
    for low, high in zip(ordered, ordered[1:], strict=False):
        middle = (low + high) / 2
        if is_awake(agent, middle) and not is_quiet(quiet, moment.timezone, middle):
            if intervals and intervals[-1][1] == low:
                intervals[-1] = (intervals[-1][0], high)
            else:
                intervals.append((low, high))
    return intervals


def first_allowed(agent: Agent, moment: Moment, at: float, rng: random.Random) -> float:
    """`at` if the agent is awake then and the user is not in quiet hours; else a moment within WAKE_DRAW_SECONDS
    of the next time both hold. A check-in held past its moment (a retry, a stopped process) waits for it.

    A drawn check-in always finds one (its window held an allowed moment, and the pattern repeats daily); `at`
    is returned only for a window that never had one.
    """
    ahead = dataclasses.replace(moment, not_before=at, not_after=at + _RESUME_HORIZON_SECONDS)
    intervals = allowed_intervals(agent, ahead)
    if not intervals or intervals[0][0] == at:
        return at
    start, end = intervals[0]
    return start + rng.uniform(0, min(WAKE_DRAW_SECONDS, (end - start) / 2))


def _why_empty(agent: Agent, moment: Moment) -> str:
    """Say which rule leaves the window empty (called only when it is)."""
    span = f"between {_when(moment.not_before)} and {_when(moment.not_after)}"
    if moment.not_after <= moment.not_before:
        return f"the window has passed (it ended at {_when(moment.not_after)})"
    awake = allowed_intervals(agent, dataclasses.replace(moment, quiet_hours=QuietHours("00:00", "00:00")))
    if not awake:
        hours = agent.active_hours
        return f"the agent is asleep {span} (its activeHours are {hours.start}-{hours.end}, {agent.timezone})"
    return (
        f"every moment {span} at which the agent is awake falls in the user's quiet hours"
        f" ({moment.quiet_hours.start}-{moment.quiet_hours.end}, {moment.timezone})"
    )


def _when(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def draw_moment(agent: Agent, moment: Moment, rng: random.Random) -> float:
    """Draw the check-in's unix time: allowed, and weighted towards natural moments; NoMomentError if none is."""
    intervals = allowed_intervals(agent, moment)
    if not intervals:
        raise NoMomentError(_why_empty(agent, moment))
    return draw_in(agent, intervals, rng)


def draw_in(agent: Agent, intervals: Sequence[tuple[float, float]], rng: random.Random) -> float:
    """Draw from non-empty allowed `intervals` with density proportional to moment_weight (rejection sampling)."""
    lengths = [high - low for low, high in intervals]
    total = sum(lengths)
    at = intervals[0][0]
    for _ in range(_MAX_TRIES):
        point = rng.random() * total
        for (low, high), length in zip(intervals, lengths, strict=True):
            if point < length:
                at = min(low + point, math.nextafter(high, low))
                break
            point -= length
        else:  # rounding left the point at the very end: the last interval's last instant
            at = math.nextafter(intervals[-1][1], intervals[-1][0])
        if rng.random() * WAKE_WEIGHT < moment_weight(agent, at):
            break
    return at


TOPIC_LINE = "What to bring up: "
CHECK_IN_INSTRUCTION = """\
This time nobody wrote to you: you are writing first, on your own initiative, to check in with {user}.
For you it is {weekday}, {time}. {since}
{topic}
Write one short, natural message in character, as you would text a friend at this moment. Do not say that
you were asked to write, and do not answer a message that was not sent."""


def _since(now: float, messages: Sequence[ChatMessage]) -> str:
    times = [message.created_at for message in messages if message.created_at is not None]
    if not messages:
        return "You have not talked before."
    if not times:
        return "The conversation so far is below."
    hours = max(0.0, now - max(times)) / 3600
    if hours < 1:
        return f"The last message was {_ago(max(1, round(hours * 60)), 'minute')}."
    if hours < 48:
        return f"The last message was about {_ago(round(hours), 'hour')}."
    return f"The last message was {_ago(round(hours / 24), 'day')}."


def _ago(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def check_in_instruction(agent: Agent, now: float, messages: Sequence[ChatMessage], topic: str | None) -> str:
    """The system text that tells the model it writes first: the moment for the agent, the silence, the topic."""
    local = datetime.datetime.fromtimestamp(now, time_zone(agent.timezone))
    about = f"{TOPIC_LINE}{topic.strip()}." if topic and topic.strip() else "Bring up whatever feels natural."
    return CHECK_IN_INSTRUCTION.format(
        user="the user",
        weekday=local.strftime("%A"),
        time=local.strftime("%H:%M"),
        since=_since(now, messages),
        topic=about,
    )


def instructed_topic(system: str) -> str | None:
    """The topic that check_in_instruction put in a system prompt, if any (the demo model reads it back)."""
    for line in system.splitlines():
        if line.startswith(TOPIC_LINE):
            return line[len(TOPIC_LINE) :].rstrip(".")
    return None
