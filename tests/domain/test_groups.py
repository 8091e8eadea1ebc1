"""Who answers in a group, and when: speaker choice and per-agent timing, seeded (domain/groups.py)."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import random

import pytest

from novaro_lite.domain.agents import ActiveHours, Agent
from novaro_lite.domain.groups import (
    MAX_AGENT_TURNS,
    Group,
    Member,
    Strategy,
    Turn,
    choose_speaker,
    mentioned,
    plan_turn,
    seats,
    turn_rng,
)
from novaro_lite.domain.timing import is_awake

UTC = datetime.UTC
YEAR_START = datetime.datetime(2026, 1, 1, tzinfo=UTC).timestamp()


def make_agent(agent_id: str, name: str, timezone: str = "UTC", start: str = "08:00", end: str = "23:00") -> Agent:
    return Agent(
        name=name,
        timezone=timezone,
        active_hours=ActiveHours(start, end),
        id=agent_id,
        account="a",
        created_at=0,
        updated_at=0,
    )


LENA = make_agent("agt_lena", "Lena", "Europe/Berlin", "07:30", "23:30")
MARCO = dataclasses.replace(make_agent("agt_marco", "Marco", "America/New_York", "10:00", "02:00"), nickname="Mo")
JUNE = make_agent("agt_june", "June", "Asia/Tokyo", "06:00", "22:00")
AGENTS = {agent.id: agent for agent in (LENA, MARCO, JUNE)}


def make_group(
    talkativeness: tuple[int, ...] = (80, 40, 20),
    strategy: Strategy = "natural",
    max_agent_turns: int = 2,
    agents: tuple[Agent, ...] = (LENA, MARCO, JUNE),
) -> Group:
    members = tuple(Member(agent.id, level) for agent, level in zip(agents, talkativeness, strict=True))
    return Group(
        name="Flatmates",
        members=members,
        strategy=strategy,
        max_agent_turns=max_agent_turns,
        id="grp_1",
        account="a",
        created_at=0,
        updated_at=0,
    )


def exchange(group: Group, text: str, at: float, seed: int, replies: dict[str, str] | None = None) -> list[Turn]:
    """Run one exchange as the server does: each turn answers the last reply, counted from its arrival."""
    turns: list[Turn] = []
    previous: str | None = None
    for number in range(1, MAX_AGENT_TURNS + 2):
        rng = turn_rng(seed, number, random.Random())
        turn = plan_turn(group, AGENTS, text, previous, number, at, {}, rng)
        if turn is None:
            break
        turns.append(turn)
        text = (replies or {}).get(turn.agent_id, "sounds good")
        at = turn.plan.arrive_at  # the next turn answers this reply once it has arrived
        previous = turn.agent_id
    return turns


def test_mentioned_finds_names_and_nicknames_in_order_whole_words_only() -> None:
    members = seats(make_group(), AGENTS)
    assert mentioned(members, "hey mo, and LENA?") == ["agt_marco", "agt_lena"]
    assert mentioned(members, "Lenas and Junebug") == []
    assert mentioned(members, "June!") == ["agt_june"]


def test_speaker_shares_follow_talkativeness() -> None:
    members = seats(make_group((60, 30, 10)), AGENTS)
    rng = random.Random(1)
    counts = collections.Counter(choose_speaker("natural", members, "anyone up?", None, 1, rng) for _ in range(20_000))
    shares = [counts[agent_id] / 20_000 for agent_id in AGENTS]
    assert shares == pytest.approx([0.6, 0.3, 0.1], abs=0.015)


def test_a_silent_member_speaks_only_when_named_and_a_silent_group_draws_evenly() -> None:
    members = seats(make_group((50, 50, 0)), AGENTS)
    rng = random.Random(2)
    assert "agt_june" not in {choose_speaker("natural", members, "hi", None, 1, rng) for _ in range(2000)}
    assert choose_speaker("natural", members, "june?", None, 1, rng) == "agt_june"
    quiet = seats(make_group((0, 0, 0)), AGENTS)
    counts = collections.Counter(choose_speaker("natural", quiet, "hi", None, 1, rng) for _ in range(6000))
    assert set(counts) == set(AGENTS) and min(counts.values()) > 1700


def test_a_mentioned_agent_answers_first_every_time() -> None:
    group = make_group((100, 100, 0))
    for seed in range(2000):
        assert exchange(group, "June, are you coming tonight?", YEAR_START + seed * 977, seed)[0].agent_id == "agt_june"


def test_nobody_speaks_twice_in_a_row_unless_alone() -> None:
    group = make_group((100, 100, 100), max_agent_turns=MAX_AGENT_TURNS)
    # Every reply names its own speaker: still the next one is someone else.
    replies = {agent.id: f"{agent.name} here" for agent in AGENTS.values()}
    for seed in range(1000):
        turns = exchange(group, "hi all", YEAR_START + seed * 3607, seed, replies)
        assert all(a.agent_id != b.agent_id for a, b in zip(turns, turns[1:], strict=False))
    alone = dataclasses.replace(group, members=group.members[:1])
    turns = exchange(alone, "hi", YEAR_START, 1)
    assert [turn.agent_id for turn in turns] == ["agt_lena"] * MAX_AGENT_TURNS


@pytest.mark.parametrize("limit", range(1, MAX_AGENT_TURNS + 1))
def test_never_more_agent_turns_than_allowed(limit: int) -> None:
    group = make_group((100, 100, 100), max_agent_turns=limit)
    lengths = {len(exchange(group, "hi all", YEAR_START + seed * 7919, seed)) for seed in range(300)}
    assert lengths == {limit}  # everyone is fully talkative, so every exchange runs to the limit, never past it
    for strategy in ("list", "manual"):
        listed = dataclasses.replace(group, strategy=strategy)
        rng = random.Random(0)
        requested = list(AGENTS) * 3
        turns = [plan_turn(listed, AGENTS, "hi", None, n, 0, {}, rng, requested=requested) for n in range(1, 10)]
        assert sum(turn is not None for turn in turns) == min(limit, 3 if strategy == "list" else 9)


def test_list_answers_in_member_order_and_manual_as_named() -> None:
    group = make_group(strategy="list", max_agent_turns=3)
    assert [turn.agent_id for turn in exchange(group, "Marco?", YEAR_START, 1)] == list(AGENTS)
    manual = dataclasses.replace(group, strategy="manual")
    rng = random.Random(0)
    named = [plan_turn(manual, AGENTS, "x", None, n, 0, {}, rng, requested=["agt_june", "agt_lena"]) for n in (1, 2, 3)]
    assert [turn.agent_id if turn else None for turn in named] == ["agt_june", "agt_lena", None]


def test_talkativeness_decides_whether_agents_answer_each_other() -> None:
    lively = [len(exchange(make_group((100, 100, 100)), "hi", YEAR_START, seed)) for seed in range(500)]
    shy = [len(exchange(make_group((10, 10, 10)), "hi", YEAR_START, seed)) for seed in range(500)]
    assert set(lively) == {2}
    assert 1.05 < sum(shy) / 500 < 1.2  # a second turn about one time in ten


def test_a_seed_gives_the_same_speakers_and_the_same_times() -> None:
    group = make_group(max_agent_turns=4)
    for seed in range(50):
        at = YEAR_START + seed * 86_399
        assert exchange(group, "hi", at, seed) == exchange(group, "hi", at, seed)
    firsts = {tuple(exchange(group, "hi", YEAR_START, seed)) for seed in range(50)}
    assert len(firsts) > 40  # and different seeds give different exchanges


def test_ten_thousand_seeded_exchanges_put_no_reply_in_an_agents_sleep() -> None:
    group = make_group((70, 60, 50), max_agent_turns=MAX_AGENT_TURNS)
    rng = random.Random(22)
    replies, in_sleep = 0, 0
    for seed in range(10_000):
        received = YEAR_START + rng.uniform(0, 365 * 86400)
        for turn in exchange(group, "hi everyone", received, seed):
            replies += 1
            speaker = AGENTS[turn.agent_id]
            in_sleep += not (is_awake(speaker, turn.plan.read_at) and is_awake(speaker, turn.plan.arrive_at))
    assert replies > 10_000 and in_sleep == 0


def test_a_group_whose_members_are_gone_says_so_and_skips_them() -> None:
    group = make_group()
    assert group.notice() is None
    assert [seat.agent_id for seat in seats(group, {LENA.id: LENA})] == ["agt_lena"]
    assert "one member" in (dataclasses.replace(group, members=group.members[:1]).notice() or "")
    assert "deleted" in (dataclasses.replace(group, members=()).notice() or "")
    assert choose_speaker("natural", [], "hi", None, 1, random.Random()) is None
