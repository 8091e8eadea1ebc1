"""POST /api/v1/messages with `groupId`: a group's replies now, whole or streamed, speaker by speaker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Secret

from novaro_lite.config.sections import MetricsSettings
from novaro_lite.config.settings import ProviderSettings, SchedulerSettings, Settings
from tests.api.test_groups import new_agent, new_group
from tests.api.test_messages import sse_events
from tests.fakes.llm import API_KEY
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
SCRAPE_TOKEN = "scrape-token-for-tests"
NOW = datetime(2026, 11, 25, 19, 0, tzinfo=UTC).timestamp()  # a Wednesday evening


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fake) -> Settings:
    provider = ProviderSettings(base_url=fake[0] + "/v1", api_key=Secret(API_KEY), model="echo")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        providers={"fake": provider},
        metrics=MetricsSettings(enabled=True, token_env="T", token=Secret(SCRAPE_TOKEN)),
    )


@pytest.fixture
async def app(settings: Settings):
    from novaro_lite.app import create_app

    app = create_app(settings, clock=lambda: NOW)  # the demo model says the time: one clock, one transcript
    async with app.router.lifespan_context(app):
        yield app


async def flatmates(client, auth, **fields: Any) -> tuple[list[str], str]:
    agents = [await new_agent(client, auth, name) for name in ("Lena", "Marco", "Yuki")]
    talkative = [{"agentId": agent_id, "talkativeness": 90} for agent_id in agents]
    group = await new_group(client, auth, *agents, **({"members": talkative} | fields))
    return agents, group["id"]


async def ask(client, auth, group_id: str, text: str, **extra: Any) -> httpx.Response:
    body = {"groupId": group_id, "messages": [{"role": "user", "name": "Sam", "content": text}]} | extra
    response: httpx.Response = await client.post("/api/v1/messages", json=body, headers=auth)
    return response


async def test_a_seed_gives_the_same_speakers_and_transcript_whole_or_streamed(client, auth):
    agents, group_id = await flatmates(client, auth, maxAgentTurns=4)
    first = (await ask(client, auth, group_id, "Anyone up for dinner?", seed=7)).json()
    again = (await ask(client, auth, group_id, "Anyone up for dinner?", seed=7)).json()
    assert first["groupId"] == group_id and 1 <= len(first["replies"]) <= 4
    assert first["replies"] == again["replies"]  # the demo model: byte for byte
    speakers = [reply["agentId"] for reply in first["replies"]]
    assert set(speakers) <= set(agents) and all(a != b for a, b in zip(speakers, speakers[1:], strict=False))
    assert [reply["turn"] for reply in first["replies"]] == list(range(1, len(speakers) + 1))
    names = {agent_id: name for agent_id, name in zip(agents, ("Lena", "Marco", "Yuki"), strict=True)}
    assert [reply["name"] for reply in first["replies"]] == [names[agent_id] for agent_id in speakers]

    streamed = await ask(client, auth, group_id, "Anyone up for dinner?", seed=7, stream=True)
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    events = sse_events(streamed)
    assert events[-1][0] == "done" and events[-1][1]["groupId"] == group_id
    turns: list[dict[str, Any]] = []
    for name, data in events[:-1]:  # each speaker is named before its text and bubbles
        if name == "speaker":
            turns.append({"agentId": data["agentId"], "name": data["name"], "turn": data["turn"], "messages": []})
        elif name == "message":
            assert data.pop("agentId") == turns[-1]["agentId"]
            turns[-1]["messages"].append(data)
        else:
            assert name == "delta" and turns
    whole = [{key: reply[key] for key in ("agentId", "name", "turn", "messages")} for reply in first["replies"]]
    assert turns == whole
    assert [reply["agentId"] for reply in events[-1][1]["replies"]] == speakers


async def test_a_named_member_answers_first_and_the_turn_limit_holds(client, auth):
    agents, group_id = await flatmates(client, auth, maxAgentTurns=2)
    for seed in range(10):
        replies = (await ask(client, auth, group_id, "Yuki, did you buy milk?", seed=seed)).json()["replies"]
        assert replies[0]["agentId"] == agents[2] and len(replies) <= 2


async def test_list_and_manual_groups_answer_as_their_strategy_says(client, auth):
    agents, listed = await flatmates(client, auth, strategy="list", maxAgentTurns=6)
    replies = (await ask(client, auth, listed, "Hello all")).json()["replies"]
    assert [reply["agentId"] for reply in replies] == agents
    assert_problem(await ask(client, auth, listed, "Hi", agentId=agents[0]), 422, "agentId")

    manual = (await new_group(client, auth, *agents, strategy="manual"))["id"]
    assert_problem(await ask(client, auth, manual, "Hi"), 422, "agentId")
    replies = (await ask(client, auth, manual, "Hi", agentId=agents[1])).json()["replies"]
    assert [reply["agentId"] for reply in replies] == [agents[1]]


async def test_a_later_speakers_failure_keeps_the_replies_before_it(client, auth):
    """The second speaker's model fails: the first speaker's reply was written (and paid for), so the answer
    is it, with where the exchange stopped and why; it was a 502 that lost it. The first speaker's failure
    is still the whole answer's."""
    lena = await new_agent(client, auth, "Lena", model="fake/echo")
    marco = await new_agent(client, auth, "Marco", model="fake/fail-500")
    group_id = (await new_group(client, auth, lena, marco, strategy="list"))["id"]
    answered = await ask(client, auth, group_id, "Pizza tonight?")
    assert answered.status_code == 200, answered.text
    (reply,) = answered.json()["replies"]
    assert reply["agentId"] == lena and reply["messages"]
    stopped = answered.json()["stopped"]
    assert stopped["agentId"] == marco and stopped["turn"] == 2 and stopped["status"] == 502 and stopped["detail"]
    first_fails = (await new_group(client, auth, marco, lena, strategy="list"))["id"]
    assert_problem(await ask(client, auth, first_fails, "Pizza tonight?"), 502)


async def test_each_speaker_sees_the_replies_before_it_attributed(client, auth, fake):
    url, recorder = fake
    recorder.reset()
    lena = await new_agent(client, auth, "Lena", model="fake/echo")
    marco = await new_agent(client, auth, "Marco", model="fake/echo")
    group_id = (await new_group(client, auth, lena, marco, strategy="list"))["id"]
    replies = (await ask(client, auth, group_id, "Pizza tonight?")).json()["replies"]
    assert [reply["agentId"] for reply in replies] == [lena, marco]
    second = recorder.requests[-1]["messages"]
    assert "Marco" in second[0]["content"] and "Lena" in second[0]["content"]  # the system prompt names both
    transcript = "\n".join(str(message["content"]) for message in second[1:])
    assert "Sam" in transcript and "Pizza tonight?" in transcript and "Second bubble." in transcript


async def test_a_speaker_naming_itself_is_said_alike_whole_or_streamed_and_in_time_order(client, auth):
    """A model copying the transcript's "Lena:" gave the stream an empty first bubble and kept "Lena:" in the
    whole reply; and the next speaker's bubbles were stamped before the first speaker's last one."""
    lena = await new_agent(client, auth, "Lena", model="fake/named-lena")
    marco = await new_agent(client, auth, "Marco", model="fake/echo")
    group_id = (await new_group(client, auth, lena, marco, strategy="list"))["id"]
    whole = (await ask(client, auth, group_id, "Pizza tonight?")).json()["replies"]
    assert [message["content"] for message in whole[0]["messages"]] == ["Hey everyone!", "How are you?"]
    events = sse_events(await ask(client, auth, group_id, "Pizza tonight?", stream=True))
    said = [data["content"] for name, data in events if name == "message" and data["agentId"] == lena]
    assert said == ["Hey everyone!", "How are you?"]
    lenas = events[1 : next(i for i, (name, _) in enumerate(events) if i and name == "speaker")]
    assert "".join(data["text"] for name, data in lenas if name == "delta") == "Hey everyone!\n\nHow are you?"
    stamps = [message["createdAt"] for reply in whole for message in reply["messages"]]
    assert stamps == sorted(stamps) and stamps[2] > stamps[1]  # Marco starts after Lena's last bubble


async def test_group_replies_are_counted_and_bad_groups_refused(client, auth):
    _, group_id = await flatmates(client, auth, strategy="list", maxAgentTurns=3)
    assert len((await ask(client, auth, group_id, "Hi")).json()["replies"]) == 3
    metrics = (await client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})).text
    assert 'novaro_group_replies_total{mode="realtime"} 3.0' in metrics
    assert_problem(await ask(client, auth, "grp_missing", "Hi"), 404)
    body = {"messages": [{"role": "user", "content": "Hi"}]}
    assert_problem(await client.post("/api/v1/messages", json=body, headers=auth), 422)
