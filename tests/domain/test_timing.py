from __future__ import annotations

import bisect
import datetime
import functools
import math
import random
from collections.abc import Callable
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from novaro_lite.domain.agents import ActiveHours, Agent, ResponseBand, time_zone
from novaro_lite.domain.timing import (
    DEFAULT_RESPONSE_TIMES,
    JITTER_MINUTES,
    WAKE_DRAW_SECONDS,
    day_jitter_minutes,
    draw_delay,
    is_awake,
    next_wake,
    schedule_reply,
)

UTC = datetime.UTC
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "America/St_Johns",
    "UTC",
    "Africa/Casablanca",
    "Asia/Tokyo",
)
KNOWN_TRANSITIONS = tuple(
    datetime.datetime(*parts).replace(tzinfo=UTC).timestamp()
    for parts in ((2026, 3, 29, 1), (2026, 10, 25, 1), (2026, 3, 8, 7), (2026, 11, 1, 6))
)
YEAR_1995, YEAR_2060 = (datetime.datetime(year, 1, 1, tzinfo=UTC).timestamp() for year in (1995, 2060))
TWO_DAYS = 2 * 86400
MAY_2 = datetime.date(2026, 5, 2)


def make_agent(
    timezone: str = "Europe/Berlin",
    start: str = "08:00",
    end: str = "23:00",
    agent_id: str = "agt_1",
    response_times: tuple[ResponseBand, ...] | None = None,
) -> Agent:
    return Agent(
        name="X",
        timezone=timezone,
        active_hours=ActiveHours(start, end),
        response_times=response_times,
        id=agent_id,
        account="a",
        created_at=0,
        updated_at=0,
    )


def local_time(timezone: str, day: datetime.date, hour: int) -> float:
    return datetime.datetime.combine(day, datetime.time(hour), time_zone(timezone)).timestamp()


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@functools.cache
def jitter(agent_id: str, day: datetime.date) -> int:
    return day_jitter_minutes(agent_id, day)


def oracle_is_awake(agent: Agent, at: float) -> bool:
    """Judge wakefulness independently of timing.is_awake: naive local datetimes against each day's window."""
    start, end = (int(text[:2]) * 60 + int(text[3:]) for text in (agent.active_hours.start, agent.active_hours.end))
    if start == end:
        return True
    if end < start:
        end += 24 * 60
    local = datetime.datetime.fromtimestamp(at, UTC).astimezone(time_zone(agent.timezone)).replace(tzinfo=None)
    for days_back in range(-1, 3):
        day = local.date() - datetime.timedelta(days=days_back)
        midnight = datetime.datetime.combine(day, datetime.time())
        shift = jitter(agent.id, day)
        if (
            midnight + datetime.timedelta(minutes=start + shift)
            <= local
            < midnight + datetime.timedelta(minutes=end + shift)
        ):
            return True
    return False


@functools.cache
def transitions(timezone: str) -> tuple[float, ...]:
    """UTC-offset changes of the zone in 2025-2027, to the hour."""
    zone, first = time_zone(timezone), datetime.datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    hours = [first + step * 3600 for step in range(3 * 366 * 24)]
    offsets = [datetime.datetime.fromtimestamp(hour, zone).utcoffset() for hour in hours]
    changes = zip(hours[1:], offsets[:-1], offsets[1:], strict=True)
    return tuple(hour for hour, before, after in changes if before != after)


@st.composite
def agents(draw: st.DrawFn) -> Agent:
    timezone = draw(st.sampled_from(ZONES))
    start, end = draw(st.integers(0, 24 * 60 - 1)), draw(st.integers(0, 24 * 60 - 1))
    return make_agent(timezone, clock(start), clock(end), f"agt_{draw(st.integers(0, 10**6))}")


@st.composite
def instants(draw: st.DrawFn, timezone: str) -> float:
    """Any time over decades, or one within two days of a DST change (of this zone, or a well-known one)."""
    near = KNOWN_TRANSITIONS + transitions(timezone)
    if draw(st.booleans()):
        return draw(st.floats(YEAR_1995, YEAR_2060))
    centre = draw(st.sampled_from(near))
    return draw(st.floats(centre - TWO_DAYS, centre + TWO_DAYS))


def test_schedule_reply_follows_the_default_table():
    agent, rng, received_at = make_agent(start="00:00", end="00:00"), random.Random(20260501), 1_777_000_000.0
    edges = [band.up_to_seconds for band in DEFAULT_RESPONSE_TIMES]
    counts = [0] * len(edges)
    draws = 100_000
    for _ in range(draws):
        delay = schedule_reply(agent, received_at, rng) - received_at
        assert 0 <= delay < 86400
        counts[bisect.bisect_right(edges, delay)] += 1
    for band, count in zip(DEFAULT_RESPONSE_TIMES, counts, strict=True):
        assert count / draws == pytest.approx(band.probability, abs=0.005)


def test_schedule_reply_uses_the_agents_own_table():
    bands = (ResponseBand(10, 0.5), ResponseBand(20, 0.5))
    agent, rng = make_agent(start="00:00", end="00:00", response_times=bands), random.Random(7)
    delays = [schedule_reply(agent, 1_777_000_000.0, rng) - 1_777_000_000.0 for _ in range(1000)]
    assert all(0 <= delay < 20 for delay in delays)
    assert 400 < sum(delay < 10 for delay in delays) < 600


def test_draw_delay_gives_the_last_band_the_rest():
    class HighRandom(random.Random):
        def random(self):
            return 0.9999999

    bands = (ResponseBand(10, 0.5), ResponseBand(20, 0.4999999))
    assert 10 <= draw_delay(bands, HighRandom()) < 20


@pytest.mark.parametrize(
    ("timezone", "day"), [("Europe/Berlin", datetime.date(2026, 3, 10)), ("Asia/Tokyo", datetime.date(2026, 7, 4))]
)
def test_schedule_reply_reads_a_night_message_at_wake_up(timezone, day):
    agent = make_agent(timezone)
    received_at = local_time(timezone, day, 3)
    wake = local_time(timezone, day, 8) + 60 * day_jitter_minutes(agent.id, day)
    assert not is_awake(agent, received_at)
    assert next_wake(agent, received_at) == wake
    for seed in range(200):
        due = schedule_reply(agent, received_at, random.Random(seed))
        # The delay is under 24 h from wake-up; one that ends in the next night moves to the next wake-up,
        # which jitter can put up to 2 * JITTER_MINUTES later, plus a short draw.
        assert wake <= due < wake + 86400 + 60 * 2 * JITTER_MINUTES + WAKE_DRAW_SECONDS
        assert is_awake(agent, due)


def test_schedule_reply_divides_the_wait_by_time_scale():
    agent, received_at = make_agent(start="00:00", end="00:00"), 1_777_000_000.0
    normal, fast = random.Random(99), random.Random(99)
    for _ in range(200):
        wait = schedule_reply(agent, received_at, normal) - received_at
        fast_wait = schedule_reply(agent, received_at, fast, time_scale=60) - received_at
        assert fast_wait == pytest.approx(wait / 60, abs=1e-6)


def test_schedule_reply_rejects_a_non_positive_time_scale():
    with pytest.raises(ValueError, match="time_scale"):
        schedule_reply(make_agent(), 0.0, random.Random(1), time_scale=0)


def test_is_awake_follows_local_hours_across_midnight():
    night_owl = make_agent("America/New_York", "20:00", "04:00")
    assert is_awake(night_owl, local_time("America/New_York", MAY_2, 1))
    assert not is_awake(night_owl, local_time("America/New_York", MAY_2, 12))
    assert is_awake(make_agent("Asia/Kathmandu"), local_time("Asia/Kathmandu", MAY_2, 12))


def test_next_wake_of_an_awake_agent_is_now():
    at = local_time("Europe/Berlin", MAY_2, 12)
    assert next_wake(make_agent(), at) == at


def test_next_wake_when_the_start_falls_in_a_dst_gap_is_the_end_of_the_gap():
    # Berlin skips 02:00-03:00 on 2026-03-29; a 02:30 start (±15 min jitter) happens at 03:00 CEST.
    agent = make_agent("Europe/Berlin", "02:30", "23:00")
    at = datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC).timestamp()
    assert next_wake(agent, at) == datetime.datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()


def test_next_wake_when_clocks_go_back_into_the_window_is_the_change():
    # Berlin repeats 02:00-03:00 on 2026-10-25; a window ending 02:30 (±15) is left at 02:50 CEST and
    # re-entered when 03:00 CEST becomes 02:00 CET.
    agent = make_agent("Europe/Berlin", "10:00", "02:30")
    at = datetime.datetime(2026, 10, 25, 0, 50, tzinfo=UTC).timestamp()
    assert not is_awake(agent, at)
    assert next_wake(agent, at) == datetime.datetime(2026, 10, 25, 1, 0, tzinfo=UTC).timestamp()


def test_next_wake_when_clocks_go_back_before_the_start_is_its_second_occurrence():
    # Berlin repeats 02:00-03:00 on 2026-10-25: a 02:30 start (±15 min) first passes at 00:30 UTC, then at 01:30 UTC.
    agent = make_agent("Europe/Berlin", "02:30", "23:00")
    at = datetime.datetime(2026, 10, 25, 1, 10, tzinfo=UTC).timestamp()
    shift = day_jitter_minutes(agent.id, datetime.date(2026, 10, 25))
    assert not is_awake(agent, at)
    assert next_wake(agent, at) == datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC).timestamp() + 60 * shift


def neighbour_jitter(agent_id: str, day: datetime.date, n: int) -> int:
    return day_jitter_minutes(agent_id, day + datetime.timedelta(days=n))


def first_day(agent_id: str, wanted: Callable[[Callable[[int], int]], bool]) -> datetime.date:
    """The first day of 2026 for which wanted(shift) holds, where shift(n) is the jitter of that day + n."""
    for n in range(365):
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=n)
        if wanted(functools.partial(neighbour_jitter, agent_id, day)):
            return day
    raise AssertionError("no such day in 2026")  # pragma: no cover - the searches above find one in days


def test_is_awake_counts_a_window_from_two_days_before():
    # 23:59-23:58 on day D-2 ends at 23:58 + jitter on D-1, which a jitter of 2 or more carries past midnight.
    agent = make_agent("UTC", "23:59", "23:58")
    day = first_day(agent.id, lambda shift: shift(-2) >= 2 and shift(-1) >= 2)
    at = datetime.datetime.combine(day, datetime.time(0, 0, 30), UTC).timestamp()
    assert is_awake(agent, at)


def test_is_awake_counts_a_window_from_the_next_day():
    # A 00:00 start with negative jitter begins on the evening before.
    agent = make_agent("UTC", "00:00", "12:00")
    day = first_day(agent.id, lambda shift: shift(1) <= -1)
    assert is_awake(agent, datetime.datetime.combine(day, datetime.time(23, 59, 30), UTC).timestamp())


def test_next_wake_finds_a_start_carried_past_midnight():
    agent = make_agent("UTC", "23:59", "10:00")
    day = first_day(agent.id, lambda shift: shift(-1) >= 2)
    midnight = datetime.datetime.combine(day, datetime.time(), UTC).timestamp()
    expected = midnight + 60 * (day_jitter_minutes(agent.id, day - datetime.timedelta(days=1)) - 1)
    assert next_wake(agent, midnight + 30) == expected


@settings(max_examples=300, deadline=None)
@given(data=st.data(), agent=agents(), seed=st.integers(0, 2**32))
def test_schedule_reply_is_never_due_while_asleep(data, agent, seed):
    received_at = data.draw(instants(agent.timezone))
    due = schedule_reply(agent, received_at, random.Random(seed))
    assert due >= received_at
    assert oracle_is_awake(agent, due)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), agent=agents())
def test_next_wake_is_the_first_awake_minute(data, agent):
    at = data.draw(instants(agent.timezone))
    wake = next_wake(agent, at)
    assert at <= wake < at + TWO_DAYS
    assert oracle_is_awake(agent, wake)
    # Every awake stretch lasts at least a minute, so stepping by a minute finds any before `wake`.
    assert not any(oracle_is_awake(agent, step) for step in range(math.ceil(at), math.ceil(wake), 60))


def test_day_jitter_minutes_is_stable_bounded_and_varied():
    days = [datetime.date(2026, 1, 1) + datetime.timedelta(days=n) for n in range(365)]
    shifts = [day_jitter_minutes("agt_1", day) for day in days]
    assert shifts == [day_jitter_minutes("agt_1", day) for day in days]
    assert all(-JITTER_MINUTES <= shift <= JITTER_MINUTES for shift in shifts)
    assert set(shifts) == set(range(-JITTER_MINUTES, JITTER_MINUTES + 1))
    assert len({day_jitter_minutes(f"agt_{n}", days[0]) for n in range(100)}) > 20
    # Pinned, so a stored schedule means the same after a restart or an upgrade (hash() would be salted).
    assert day_jitter_minutes("agt_1", datetime.date(2026, 10, 24)) == 7


def test_local_hours_follow_the_tzdata_package_the_zone_names_come_from(tmp_path, monkeypatch):
    """zoneinfo reads the host's zone files first; this Debian's (2025b) still puts Vancouver on UTC-8 in winter,
    which the tzdata package (2026f) no longer does: the agent woke an hour off, on such a host only. Here the
    host's file is made plainly wrong (UTC), so the test tells on any host."""
    import zoneinfo

    (tmp_path / "America").mkdir()
    (tmp_path / "America" / "Vancouver").write_bytes(resources.files("tzdata.zoneinfo").joinpath("UTC").read_bytes())
    monkeypatch.setattr(zoneinfo, "TZPATH", (str(tmp_path),))
    zoneinfo.reset_tzpath([str(tmp_path)])
    ZoneInfo.clear_cache()
    time_zone.cache_clear()
    try:
        with resources.files("tzdata.zoneinfo").joinpath("America", "Vancouver").open("rb") as data:
            package = ZoneInfo.from_file(data)
        agent = make_agent("America/Vancouver")
        start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC).timestamp()
        for at in range(int(start), int(start) + 120 * 86400, 1800):
            local = datetime.datetime.fromtimestamp(at, package)
            if local.hour in (7, 8, 22, 23):
                continue  # the wake and sleep times move by up to JITTER_MINUTES a day
            assert is_awake(agent, at) == (8 <= local.hour < 23), local
    finally:
        zoneinfo.reset_tzpath()
        ZoneInfo.clear_cache()
        time_zone.cache_clear()
