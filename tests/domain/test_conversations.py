from __future__ import annotations

import bisect
import dataclasses
import random
import statistics

import pytest

from novaro_lite.domain.agents import Presence, ResponseBand
from novaro_lite.domain.arrival import (
    CHARS_PER_WORD,
    MAX_TYPING_SECONDS,
    ModelClock,
    Plan,
    bubble_offsets,
    chars_per_second,
    plan_reply,
    type_reply,
)
from novaro_lite.domain.conversations import (
    ONLINE_RESPONSE_TIMES,
    is_online,
    plan_after_busy,
    plan_message,
    session_end,
    superseding_plan,
)
from novaro_lite.domain.timing import DEFAULT_RESPONSE_TIMES, next_wake
from tests.domain.test_timing import MAY_2, local_time, make_agent

ALWAYS_AWAKE = make_agent(start="00:00", end="00:00")
NOON = local_time("Europe/Berlin", MAY_2, 12)
SHORT_REPLY = ["ok, sounds good"]


def band_shares(bands: tuple[ResponseBand, ...], delays: list[float]) -> list[float]:
    edges = [band.up_to_seconds for band in bands]
    counts = [0] * len(edges)
    for delay in delays:
        counts[bisect.bisect_right(edges, delay)] += 1
    return [count / len(delays) for count in counts]


@pytest.mark.parametrize("online_until", [None, 1_777_000_000.0 - 1], ids=["never-online", "session-over"])
def test_first_messages_of_conversations_follow_the_published_table(online_until):
    rng, received_at = random.Random(12), 1_777_000_000.0
    delays = [
        plan_message(ALWAYS_AWAKE, received_at, online_until, rng).arrive_at - received_at for _ in range(100_000)
    ]
    for band, share in zip(DEFAULT_RESPONSE_TIMES, band_shares(DEFAULT_RESPONSE_TIMES, delays), strict=True):
        assert share == pytest.approx(band.probability, abs=0.005)


def test_messages_inside_a_session_follow_the_online_table():
    rng, received_at = random.Random(13), 1_777_000_000.0
    online_until = received_at + 60
    delays = [
        plan_message(ALWAYS_AWAKE, received_at, online_until, rng).arrive_at - received_at for _ in range(100_000)
    ]
    assert max(delays) < ONLINE_RESPONSE_TIMES[-1].up_to_seconds
    for band, share in zip(ONLINE_RESPONSE_TIMES, band_shares(ONLINE_RESPONSE_TIMES, delays), strict=True):
        assert share == pytest.approx(band.probability, abs=0.005)


def test_an_agents_own_online_table_and_disabled_presence():
    own = (ResponseBand(5, 1.0),)
    quick = dataclasses.replace(ALWAYS_AWAKE, online_response_times=own)
    rng, at = random.Random(3), 1_777_000_000.0
    assert all(plan_message(quick, at, at + 60, rng).arrive_at - at < 5 for _ in range(200))
    off = dataclasses.replace(ALWAYS_AWAKE, presence=Presence(enabled=False))
    assert not is_online(off, at + 60, at)
    assert session_end(off, at, rng) is None
    # Disabled presence is exactly today's behaviour: the same draws as the published table.
    today, cold = random.Random(5), random.Random(5)
    assert [plan_message(off, at, at + 60, cold) for _ in range(50)] == [plan_reply(off, at, today) for _ in range(50)]


def test_sessions_are_exponential_with_the_agents_mean():
    agent = dataclasses.replace(ALWAYS_AWAKE, presence=Presence(enabled=True, mean_session_minutes=4))
    rng = random.Random(8)
    lengths = [session_end(agent, 0.0, rng) for _ in range(50_000)]
    assert statistics.fmean(length or 0 for length in lengths) == pytest.approx(240, rel=0.02)
    # Exponential: about 1 - 1/e of the sessions end before the mean.
    assert sum((length or 0) < 240 for length in lengths) / len(lengths) == pytest.approx(0.632, abs=0.01)
    scaled = session_end(agent, 100.0, random.Random(1), time_scale=60)
    assert scaled is not None and 100 < scaled < 100 + 240  # a 60x demo clock shortens sessions too


def simulate_exchange(seed: int, agent=ALWAYS_AWAKE, start: float = NOON, turns: int = 20) -> list[float]:
    """The user writes, the agent answers (read, type, deliver), the user answers within 20 s; return delays."""
    rng, user = random.Random(seed), random.Random(seed + 1)
    at, online_until, delays = start, None, []
    for _ in range(turns):
        plan = plan_message(agent, at, online_until, rng)
        typed = type_reply(agent, SHORT_REPLY, plan.read_at, plan.arrive_at, rng, ModelClock(at))
        delays.append(typed.until - at)
        online_until = session_end(agent, typed.until, rng)
        at = typed.until + user.uniform(0, 20)
    return delays


def test_a_twenty_turn_exchange_is_answered_within_a_minute_at_the_median():
    berlin = make_agent()
    delays = [delay for seed in range(300) for delay in simulate_exchange(seed, berlin)]
    assert statistics.median(delays) < 60
    # The first message of each exchange is cold: its median is minutes, from the published table.
    firsts = [simulate_exchange(seed, berlin, turns=1)[0] for seed in range(300)]
    assert statistics.median(firsts) > 60


def test_a_message_to_a_sleeping_agent_waits_for_wake_up_even_inside_a_session():
    agent = make_agent()
    night = local_time("Europe/Berlin", MAY_2, 3)
    wake = next_wake(agent, night)
    for seed in range(200):
        rng = random.Random(seed)
        assert plan_message(agent, night, night + 600, rng).read_at >= wake
        assert plan_message(agent, night, None, rng).read_at >= wake


def test_three_messages_in_thirty_seconds_get_one_reply_no_later_than_the_first_would_have():
    agent = make_agent()
    for seed in range(500):
        rng = random.Random(seed)
        first = plan_message(agent, NOON, None, rng)
        if first.read_at <= NOON + 30:
            continue  # the agent already opened the chat: the later ones wait for that reply instead
        pending = first
        for arrival in (NOON + 10, NOON + 30):
            pending = superseding_plan(plan_message(agent, arrival, None, rng), [pending])
        assert pending.arrive_at <= first.arrive_at


def test_a_message_during_a_reply_is_read_after_it():
    rng = random.Random(2)
    for _ in range(200):
        busy_until = NOON + 100
        plan = plan_after_busy(ALWAYS_AWAKE, Plan(NOON + 5, NOON + 50), busy_until, rng)
        assert busy_until <= plan.read_at <= plan.arrive_at < busy_until + ONLINE_RESPONSE_TIMES[-1].up_to_seconds
    late = Plan(NOON + 10_000, NOON + 10_100)
    assert plan_after_busy(ALWAYS_AWAKE, late, NOON, rng) == late


def test_typing_time_follows_words_per_minute_with_spread():
    rng = random.Random(4)
    speeds = [chars_per_second(ALWAYS_AWAKE, rng) or 0 for _ in range(10_000)]
    nominal = 40 * CHARS_PER_WORD / 60
    assert min(speeds) >= nominal * 0.8 and max(speeds) <= nominal * 1.2
    assert statistics.fmean(speeds) == pytest.approx(nominal, rel=0.01)
    text = "x" * 200  # 40 words: a minute at 40 wpm
    typed = type_reply(ALWAYS_AWAKE, [text], NOON, NOON, random.Random(9), ModelClock(NOON))
    assert 60 / 1.2 <= typed.until - NOON <= 60 / 0.8
    fast = dataclasses.replace(ALWAYS_AWAKE, typing_speed_wpm=80)
    assert 30 / 1.2 <= type_reply(fast, [text], NOON, NOON, random.Random(9), ModelClock(NOON)).until - NOON <= 30 / 0.8


def test_very_long_replies_are_typed_in_at_most_the_cap():
    offsets = bubble_offsets(["y" * 20_000, "z" * 20_000], speed=1.0)
    assert offsets[-1] == pytest.approx(MAX_TYPING_SECONDS)
    assert offsets[0] < offsets[1]
