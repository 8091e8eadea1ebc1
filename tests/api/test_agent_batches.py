"""POST /api/v1/agents/generate against a scripted fake OpenAI-compatible server, and the demo model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Secret

from novaro_lite.config.settings import ProviderSettings, SchedulerSettings, Settings
from tests.fakes.llm import API_KEY, Recorder
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


@pytest.fixture
def recorder(fake: tuple[str, Recorder]) -> Recorder:
    fake[1].reset()
    return fake[1]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fake) -> Settings:
    provider = ProviderSettings(base_url=f"{fake[0]}/v1", api_key=Secret(API_KEY), model="agents-good")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        providers={"fake": provider},
    )


async def generate(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/api/v1/agents/generate", json={"description": "bakers"} | body, headers=auth)


async def listed(client: httpx.AsyncClient, auth: dict[str, str]) -> list[Any]:
    data: list[Any] = (await client.get("/api/v1/agents", headers=auth)).json()["data"]
    return data


@pytest.mark.parametrize("model", ["fake/agents-good", "fake/agents-fenced", "fake/agents-thinking"])
async def test_generated_agents_are_created_from_json_even_inside_prose(client, auth, recorder, model):
    response = await generate(client, auth, count=3, model=model, data={"segment": "students"})
    assert response.status_code == 201, response.text
    agents = response.json()["agents"]
    assert [a["name"] for a in agents] == ["Person 0", "Person 1", "Person 2"]
    assert all(a["timezone"] == "Europe/Berlin" and a["id"].startswith("agt_") for a in agents)
    assert [a["id"] for a in await listed(client, auth)] == [a["id"] for a in agents]
    request = json.loads(recorder.requests[-1]["messages"][-1]["content"])
    assert request["count"] == 3 and request["description"] == "bakers" and request["data"] == {"segment": "students"}


async def test_generation_runs_in_chunks_of_ten(client, auth, recorder):
    response = await generate(client, auth, count=25, model="fake/agents-good")
    assert response.status_code == 201
    counts = [json.loads(r["messages"][-1]["content"])["count"] for r in recorder.requests]
    assert counts == [10, 10, 5]
    assert len({a["name"] for a in response.json()["agents"]}) == 25


async def test_invalid_entries_are_re_asked_with_the_reason(client, auth, recorder):
    response = await generate(client, auth, count=2, model="fake/agents-badtz")
    assert response.status_code == 201, response.text
    second_ask = json.loads(recorder.requests[1]["messages"][-1]["content"])
    assert second_ask["count"] == 1 and "Mars/Olympus" in second_ask["problems"][0]
    assert second_ask["avoidNames"] == ["Person 1"]


@pytest.mark.parametrize(
    ("model", "why"),
    [("fake/agents-few", "asked for"), ("fake/agents-garbage", "no JSON array")],
)
async def test_too_few_valid_agents_is_a_502_and_creates_nothing(client, auth, recorder, model, why):
    body = assert_problem(await generate(client, auth, count=3, model=model), 502, why)
    assert "valid agents of the 3 asked for" in body["detail"]
    assert await listed(client, auth) == []
    assert len(recorder.requests) == 3  # the first ask and two re-asks


async def test_defaults_are_applied_to_every_generated_agent(client, auth):
    defaults = {"language": "pt-BR", "activeHours": {"start": "10:00", "end": "02:00"}, "maxBubbles": 2}
    agents = (await generate(client, auth, count=2, model="fake/agents-good", defaults=defaults)).json()["agents"]
    assert all(a["language"] == "pt-BR" and a["activeHours"] == defaults["activeHours"] for a in agents)
    assert all(a["maxBubbles"] == 2 for a in agents)


async def test_demo_model_writes_varied_valid_agents_that_reflect_the_data(client, auth):
    data = "Regulars at a Lisbon café\nA Tokyo office worker\nA student in São Paulo"
    body = {"count": 6, "description": "people who text their local bakery", "data": data}
    first = await generate(client, auth, **body)
    assert first.status_code == 201, first.text
    agents = first.json()["agents"]
    assert len({a["name"] for a in agents}) == 6
    assert {a["timezone"] for a in agents[:3]} == {"Europe/Lisbon", "Asia/Tokyo", "America/Sao_Paulo"}
    assert all("people who text their local bakery" in a["persona"] for a in agents)
    assert "Lisbon café" in agents[0]["persona"]
    again = (await generate(client, auth, **body)).json()["agents"]
    assert [a["persona"] for a in again] == [a["persona"] for a in agents]  # deterministic


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"count": 0}, "count"),
        ({"count": 51}, "count"),
        ({"count": 2, "description": ""}, "description"),
        ({"count": 2, "model": "nowhere/x"}, "model"),
        ({"count": 2, "defaults": {"timezone": "Mars/Base"}}, "defaults.timezone"),
        ({"count": 2, "defaults": {"contextIds": ["ctx_nope"]}}, "ctx_nope"),
    ],
)
async def test_bad_generation_requests_are_422(client, auth, body, where):
    assert_problem(await generate(client, auth, **body), 422, where)


def test_an_answer_nested_past_the_recursion_limit_holds_no_personas():
    from novaro_lite.domain.agent_batches import read_agents

    with pytest.raises(ValueError, match="no JSON array of personas"):  # not a RecursionError, which was a 500
        read_agents("Here you are: " + "[" * 5000 + "]" * 5000)
