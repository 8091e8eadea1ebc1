"""The human moment of a check-in: never in the agent's sleep or the user's quiet hours, natural moments preferred."""

from __future__ import annotations

import dataclasses
import datetime
import math
import random
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from novaro_lite.domain.agents import ActiveHours, Agent
from novaro_lite.domain.check_ins import (
    EVENING_WEIGHT,
    WAKE_WEIGHT,
    Moment,
    NoMomentError,
    QuietHours,
    allowed_intervals,
    check_in_instruction,
    draw_in,
    draw_moment,
    first_allowed,
    is_quiet,
    moment_weight,
)
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.timing import WAKE_DRAW_SECONDS, is_awake

# DST in both hemispheres, half-hour and 45-minute offsets, a half-hour DST shift (Lord Howe), the date line.
ZONES = (
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "America/Santiago",
    "Asia/Tokyo",
)
PARIS = ZoneInfo("Europe/Paris")
# Around the 2026 changes of the northern and southern zones above, and a quiet month.
STARTS = tuple(
    datetime.datetime(*parts, tzinfo=UTC).timestamp()
    for parts in ((2026, 3, 6), (2026, 3, 26), (2026, 4, 3), (2026, 9, 25), (2026, 10, 23), (2026, 6, 10))
)


def agent(timezone: str = "Europe/Paris", start: str = "08:00", end: str = "23:00", agent_id: str = "agt_1") -> Agent:
    return Agent(
        name="Mia",
        timezone=timezone,
        active_hours=ActiveHours(start, end),
        id=agent_id,
        account="a",
        created_at=0,
        updated_at=0,
    )


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def random_case(rng: random.Random, index: int) -> tuple[Agent, Moment]:
    wake = rng.randrange(4 * 60, 11 * 60, 15)
    sleep = (wake + rng.randrange(12 * 60, 19 * 60, 5)) % (24 * 60)
    quiet_start = rng.randrange(20 * 60, 24 * 60, 30) % (24 * 60)
    quiet_end = rng.randrange(6 * 60, 10 * 60, 30)
    start = rng.choice(STARTS) + rng.uniform(0, 6 * 86400)
    length = rng.choice((2 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400))
    return (
        agent(rng.choice(ZONES), clock(wake), clock(sleep), f"agt_{index}"),
        Moment(start, start + length, rng.choice(ZONES), QuietHours(clock(quiet_start), clock(quiet_end))),
    )


def is_allowed(subject: Agent, moment: Moment, at: float) -> bool:
    return is_awake(subject, at) and not is_quiet(moment.quiet_hours, moment.timezone, at)


def test_check_in_100000_draws_never_land_in_sleep_or_quiet_hours() -> None:
    rng, draws, violations, empty = random.Random(21), 0, 0, 0
    index = 0
    while draws < 100_000:
        subject, moment = random_case(rng, index)
        index += 1
        intervals = allowed_intervals(subject, moment)
        if not intervals:
            empty += 1
            with pytest.raises(NoMomentError):
                draw_moment(subject, moment, rng)
            # Checked independently: not one minute of the window is allowed.
            minutes = int((moment.not_after - moment.not_before) // 60)
            assert not any(is_allowed(subject, moment, moment.not_before + 60 * m + 30) for m in range(minutes))
            continue
        for _ in range(200):
            at = draw_in(subject, intervals, rng)
            draws += 1
            if not (moment.not_before <= at <= moment.not_after and is_allowed(subject, moment, at)):
                violations += 1
    assert violations == 0
    assert index > 400 and empty < index / 5  # many zones and windows, few of them empty


def test_a_held_or_retried_check_in_resumes_at_an_allowed_moment_soon_after() -> None:
    rng, moved = random.Random(25), 0
    for index in range(2000):
        subject, moment = random_case(rng, index)
        at = moment.not_before + rng.uniform(0, 2 * 86400)
        resumed = first_allowed(subject, moment, at, rng)
        assert is_allowed(subject, moment, resumed)
        if is_allowed(subject, moment, at):
            assert resumed == at
        else:  # the first allowed stretch after `at`, within WAKE_DRAW_SECONDS of its start
            moved += 1
            (start, _), *_ = allowed_intervals(subject, dataclasses.replace(moment, not_before=at, not_after=resumed))
            assert at < resumed and resumed - start <= WAKE_DRAW_SECONDS
    assert moved > 200


def test_allowed_intervals_agree_with_a_minute_by_minute_probe() -> None:
    rng = random.Random(5)
    for index in range(40):
        subject, moment = random_case(rng, index)
        intervals = allowed_intervals(subject, moment)
        inside = sum(min(high, moment.not_after) - max(low, moment.not_before) for low, high in intervals)
        probed = sum(
            60
            for minute in range(int((moment.not_after - moment.not_before) // 60))
            if is_allowed(subject, moment, moment.not_before + 60 * minute + 30)
        )
        assert abs(inside - probed) <= 60 * (2 * len(intervals) + 2)  # at most a minute lost at each edge


@pytest.mark.parametrize(
    ("timezone", "user_zone", "start"),
    [
        ("Europe/Paris", "Europe/Paris", STARTS[1]),
        ("Asia/Kathmandu", "Asia/Kolkata", STARTS[0]),
        ("Australia/Lord_Howe", "Australia/Adelaide", STARTS[4]),
    ],
)
def test_check_in_draws_follow_the_documented_preference(timezone: str, user_zone: str, start: float) -> None:
    """The share of draws a while after waking, in the evening and elsewhere is each class's weight times its time."""
    subject = agent(timezone, "07:00", "23:30")
    moment = Moment(start, start + 7 * 86400, user_zone, QuietHours("23:00", "07:30"))
    expected = {WAKE_WEIGHT: 0.0, EVENING_WEIGHT: 0.0, 1.0: 0.0}
    minutes = dict.fromkeys(expected, 0)
    for minute in range(7 * 24 * 60):
        at = start + 60 * minute + 30
        if is_allowed(subject, moment, at):
            weight = moment_weight(subject, at)
            expected[weight] += weight
            minutes[weight] += 1
    total = sum(expected.values())
    rng, intervals, count = random.Random(7), allowed_intervals(subject, moment), 30_000
    observed = dict.fromkeys(expected, 0)
    for _ in range(count):
        observed[moment_weight(subject, draw_in(subject, intervals, rng))] += 1
    for weight, mass in expected.items():
        share = mass / total
        sigma = math.sqrt(share * (1 - share) / count)
        assert abs(observed[weight] / count - share) < 4 * sigma + 0.002, (weight, observed, expected)
    for weight in (WAKE_WEIGHT, EVENING_WEIGHT):  # preferred: more draws than their share of the time
        assert minutes[weight] and observed[weight] / count > 1.4 * minutes[weight] / sum(minutes.values())


def test_check_in_draw_is_reproducible_with_a_seed() -> None:
    subject, moment = agent(), Moment(STARTS[2], STARTS[2] + 86400, "Europe/Paris", QuietHours())
    first = [draw_moment(subject, moment, random.Random(3)) for _ in range(3)]
    assert len(set(first)) == 1
    assert draw_moment(subject, moment, random.Random(4)) != first[0]


def test_check_in_window_in_the_agents_sleep_says_why() -> None:
    night = datetime.datetime(2026, 6, 10, 1, 0, tzinfo=PARIS).timestamp()
    with pytest.raises(NoMomentError, match="the agent is asleep"):
        draw_moment(
            agent(), Moment(night, night + 3 * 3600, "Europe/Paris", QuietHours("00:00", "00:00")), random.Random()
        )


def test_check_in_window_in_the_users_quiet_hours_says_why() -> None:
    evening = datetime.datetime(2026, 6, 10, 21, 0, tzinfo=PARIS).timestamp()
    moment = Moment(evening, evening + 2 * 3600, "Europe/Paris", QuietHours("20:00", "09:00"))
    with pytest.raises(NoMomentError, match="quiet hours"):
        draw_moment(agent(), moment, random.Random())


def test_quiet_hours_wrap_midnight_and_equal_bounds_mean_none() -> None:
    at = datetime.datetime(2026, 6, 10, 23, 30, tzinfo=PARIS).timestamp()
    assert is_quiet(QuietHours("22:00", "08:00"), "Europe/Paris", at)
    assert not is_quiet(QuietHours("22:00", "08:00"), "Europe/Paris", at - 2 * 3600)
    assert not is_quiet(QuietHours("08:00", "08:00"), "Europe/Paris", at)
    assert is_quiet(QuietHours("22:00", "08:00"), "Asia/Tokyo", at)  # 06:30 the next morning in Tokyo
    assert not is_quiet(QuietHours("22:00", "08:00"), "Asia/Tokyo", at + 2 * 3600)


def test_check_in_instruction_says_it_writes_first_when_and_about_what() -> None:
    now = datetime.datetime(2026, 6, 10, 19, 40, tzinfo=PARIS).timestamp()
    history = [ChatMessage("user", "Exam tomorrow, wish me luck", int(now - 26 * 3600))]
    text = check_in_instruction(agent(), now, history, "ask how the exam went")
    assert "you are writing first" in text
    assert "Wednesday, 19:40" in text
    assert "about 26 hours ago" in text
    assert "ask how the exam went" in text
    assert "You have not talked before." in check_in_instruction(agent(), now, [], None)
    for seconds, said in ((50, "1 minute ago"), (3700, "about 1 hour ago"), (86400 * 3, "3 days ago")):
        assert said in check_in_instruction(agent(), now, [ChatMessage("user", "hi", int(now - seconds))], None)
