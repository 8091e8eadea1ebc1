"""The arrival model: the drawn delay is when the reply arrives; reading and typing happen inside it."""

from __future__ import annotations

import bisect
import dataclasses
import random

import pytest
from hypothesis import given, settings, strategies as st

from novaro_lite.domain.agents import ResponseBand
from novaro_lite.domain.arrival import (
    BUBBLE_PAUSE_SECONDS,
    MAX_TYPING_SECONDS,
    READ_LEAD_SECONDS,
    WIDE_KEYSTROKES,
    ModelClock,
    first_awake,
    keystrokes,
    plan_reply,
    type_reply,
)
from novaro_lite.domain.conversations import ONLINE_RESPONSE_TIMES
from novaro_lite.domain.replies import Typist
from novaro_lite.domain.timing import DEFAULT_RESPONSE_TIMES, WAKE_DRAW_SECONDS, is_awake, next_wake
from tests.domain.test_timing import MAY_2, agents, instants, local_time, make_agent

ALWAYS_AWAKE = make_agent(start="00:00", end="00:00")
NOON = local_time("Europe/Berlin", MAY_2, 12)
CHART_REPLY = ["x" * 70, "y" * 50]  # the chart's reply (scripts/conversation-chart): 120 characters
SHORT_REPLY = ["ok, see you then!"]
DEMO_REPLY = ["x" * 68, "y" * 51, "z" * 64]  # the demo model's three bubbles (providers/demo.py), 183 characters


def shares(bands: tuple[ResponseBand, ...], delays: list[float]) -> list[float]:
    edges = [band.up_to_seconds for band in bands]
    counts = [0] * len(edges)
    for delay in delays:
        counts[min(bisect.bisect_right(edges, delay), len(edges) - 1)] += 1
    return [count / len(delays) for count in counts]


def arrivals(bands: tuple[ResponseBand, ...] | None, reply: list[str], seed: int, draws: int = 50_000):
    """Seeded draws of the whole model for an awake agent: (drawn arrival, actual arrival), both from receipt."""
    rng, clock = random.Random(seed), ModelClock(NOON)
    for _ in range(draws):
        plan = plan_reply(ALWAYS_AWAKE, NOON, rng, bands=bands)
        typed = type_reply(ALWAYS_AWAKE, reply, plan.read_at, plan.arrive_at, rng, clock)
        yield plan.arrive_at - NOON, typed.until - NOON


@pytest.mark.parametrize(("bands", "table"), [(None, DEFAULT_RESPONSE_TIMES), (ONLINE_RESPONSE_TIMES,) * 2])
def test_replies_arrive_on_the_table_with_reading_and_typing_inside(bands, table):
    drawn, arrived = zip(*arrivals(bands, SHORT_REPLY, seed=1), strict=True)
    for band, share in zip(table, shares(table, list(arrived)), strict=True):
        assert share == pytest.approx(band.probability, abs=0.006)


def test_only_physics_stretches_an_arrival_and_never_by_more_than_the_typing_time():
    """The figures docs/api.md states: 120 characters at the default 40 wpm, the published table."""
    pairs = list(arrivals(None, CHART_REPLY, seed=2))
    late = [(drawn, arrived) for drawn, arrived in pairs if arrived > drawn + 1e-6]
    # Typing 120 characters in two bubbles takes 31-46 s: only a reply drawn sooner than that can be late...
    assert len(late) / len(pairs) == pytest.approx(0.063, abs=0.006)
    assert all(drawn < 46 and arrived - drawn <= 46 for drawn, arrived in late)
    # ...and it still arrives within the first minute: every band of the table holds.
    for band, share in zip(DEFAULT_RESPONSE_TIMES, shares(DEFAULT_RESPONSE_TIMES, [a for _, a in pairs]), strict=True):
        assert share == pytest.approx(band.probability, abs=0.006)


def test_the_demo_models_longer_reply_leaves_the_first_minute_a_little_more_often():
    """The figure docs/api.md states for the demo model: its reply (here 183 characters in three bubbles, the
    usual 150-190) takes 47-70 s to type at 40 wpm, so the first minute gets 6.3% of cold replies, not 10%."""
    pairs = list(arrivals(None, DEMO_REPLY, seed=4))
    first, second, *later = shares(DEFAULT_RESPONSE_TIMES, [arrived for _, arrived in pairs])
    assert first == pytest.approx(0.063, abs=0.006) and second == pytest.approx(0.537, abs=0.006)
    for band, share in zip(DEFAULT_RESPONSE_TIMES[2:], later, strict=True):  # the later bands hold
        assert share == pytest.approx(band.probability, abs=0.006)


def test_the_agent_reads_shortly_before_the_arrival_never_before_the_message():
    rng = random.Random(3)
    for _ in range(5_000):
        plan = plan_reply(ALWAYS_AWAKE, NOON, rng)
        assert NOON <= plan.read_at <= plan.arrive_at
        assert plan.arrive_at - plan.read_at == pytest.approx(min(READ_LEAD_SECONDS, plan.arrive_at - NOON))


def test_typing_ends_at_the_drawn_arrival_when_there_is_time():
    typed = type_reply(ALWAYS_AWAKE, CHART_REPLY, NOON, NOON + 600, random.Random(4), ModelClock(NOON))
    assert typed.until == pytest.approx(NOON + 600)
    assert 120 / (40 * 1.2 * 5 / 60) < 600 - (typed.started_at - NOON) < 120 / (40 * 0.8 * 5 / 60) + 2
    stamps = [message.created_at or 0 for message in typed.messages]
    assert stamps == sorted(stamps) and stamps[-1] == int(typed.until)


def test_a_chinese_japanese_or_korean_reply_takes_as_long_to_type_as_its_keystrokes():
    """Typed through an input method, a hanzi, kana or hangul syllable is several keys: 40 characters of
    Chinese take about three times as long as 40 of English at the same speed (the same seeded draw)."""

    def typing(text: str) -> float:
        typed = type_reply(ALWAYS_AWAKE, [text], NOON, NOON + 3600, random.Random(4), ModelClock(NOON))
        return typed.until - typed.started_at

    english = typing("x" * 40)
    for text in ("明天见，我们在老地方吃火锅吧，好吗？你几点下班？", "あ" * 40, "안" * 40):
        assert typing(text) == pytest.approx(english * keystrokes(text) / 40)
    assert typing("あ" * 40) == pytest.approx(english * WIDE_KEYSTROKES)
    assert keystrokes("Grüße, Привет! ＡＢＣ 🙂") == len("Grüße, Привет! ＡＢＣ 🙂")  # one key each
    realtime = Typist(0, 40 * 5 / 60)
    realtime.stamp("first")
    assert realtime.stamp("あ" * 30).created_at == round(BUBBLE_PAUSE_SECONDS + 90 / (40 * 5 / 60))


def test_no_typing_speed_sends_every_bubble_at_the_arrival():
    untyped = dataclasses.replace(ALWAYS_AWAKE, typing_speed_wpm=None)
    typed = type_reply(untyped, ["a", "b"], NOON, NOON + 90, random.Random(1), ModelClock(NOON))
    assert typed.started_at == typed.until == NOON + 90
    assert all(message.created_at == int(NOON + 90) for message in typed.messages)


def test_a_demo_clock_divides_every_time():
    clock = ModelClock(NOON, 60)
    plan = plan_reply(ALWAYS_AWAKE, NOON, random.Random(5), time_scale=60)
    model = plan_reply(ALWAYS_AWAKE, NOON, random.Random(5))
    assert plan.arrive_at - NOON == pytest.approx((model.arrive_at - NOON) / 60)
    typed = type_reply(ALWAYS_AWAKE, ["x" * 200], NOON, NOON, random.Random(9), clock)
    assert 50 / 60 <= typed.until - NOON <= 75 / 60


def test_typing_before_sleep_is_hurried_and_typing_in_sleep_waits_for_the_morning():
    agent = make_agent(end="23:00")
    clock = ModelClock(NOON)
    bedtime = next(t for t in range(int(NOON), int(NOON) + 86_400, 30) if not is_awake(agent, t))
    typed = type_reply(agent, ["w" * 1000], bedtime - 20, bedtime - 20, random.Random(1), clock)
    assert bedtime - 20 < typed.until < bedtime and is_awake(agent, typed.until)
    night = bedtime + 3600
    typed = type_reply(agent, ["w" * 100], night, night, random.Random(1), clock)
    assert typed.started_at >= next_wake(agent, night) and is_awake(agent, typed.started_at)


def test_first_awake_moves_a_time_in_sleep_to_just_after_the_wake_up():
    agent = make_agent()
    night = local_time("Europe/Berlin", MAY_2, 3)
    wake = next_wake(agent, night)
    for seed in range(50):
        moved = first_awake(agent, night, random.Random(seed), ModelClock(night))
        assert wake <= moved <= wake + WAKE_DRAW_SECONDS and is_awake(agent, moved)
    assert first_awake(agent, NOON, random.Random(1), ModelClock(NOON)) == NOON


@settings(max_examples=300, deadline=None)
@given(data=st.data(), wpm=st.integers(5, 300), online=st.booleans(), seed=st.integers(0, 2**32))
def test_no_read_typing_or_arrival_falls_in_sleep(data, wpm, online, seed):
    agent = dataclasses.replace(data.draw(agents()), typing_speed_wpm=wpm)
    received_at = data.draw(instants(agent.timezone))
    rng = random.Random(seed)
    bubbles = data.draw(st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=3))
    plan = plan_reply(agent, received_at, rng, bands=ONLINE_RESPONSE_TIMES if online else None)
    typed = type_reply(agent, bubbles, plan.read_at, plan.arrive_at, rng, ModelClock(received_at))
    assert received_at <= plan.read_at <= typed.started_at <= typed.until
    for moment in (plan.read_at, typed.started_at, typed.until):
        assert is_awake(agent, moment)
    # Only physics stretches the arrival, by at most the typing time (itself at most MAX_TYPING_SECONDS).
    assert typed.until - plan.arrive_at <= max(0.0, typed.until - typed.started_at) + 1e-6
    assert typed.until - typed.started_at <= MAX_TYPING_SECONDS + 1e-6
