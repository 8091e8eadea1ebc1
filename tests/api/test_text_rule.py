"""One rule for text on every way in (domain/text.py): NUL, a lone surrogate and NaN/Infinity are a 422 naming
the place, on both engines, whether they come in a JSON body, a card (JSON or PNG), a lorebook entry or a
generated agent; and whatever was accepted exports as strict JSON."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Secret

from novaro_lite.config.settings import ProviderSettings, SchedulerSettings, Settings
from tests.fakes.cards import card_png, v2_card
from tests.fakes.llm import API_KEY
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
JSON = {"Content-Type": "application/json"}
# Raw JSON spellings: what a client can send that the rule refuses, and the message that says why.
BAD = [
    (r'"a\u0000b"', "NUL"),
    (r'"a\ud800b"', "lone UTF-16 surrogate"),
    (r'"\udc00"', "lone UTF-16 surrogate"),
    ("1e999", "finite number"),
    ("-1e999", "finite number"),
    ("NaN", "finite number"),
    ("Infinity", "finite number"),
]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fake) -> Settings:
    provider = ProviderSettings(base_url=f"{fake[0]}/v1", api_key=Secret(API_KEY), model="agents-good")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        providers={"fake": provider},
    )


def errors_of(response: httpx.Response, detail: str) -> list[Any]:
    return [error["loc"] for error in assert_problem(response, 422, detail)["errors"]]


@pytest.mark.parametrize(("value", "detail"), BAD)
async def test_a_json_body_is_refused_at_the_place(client: httpx.AsyncClient, auth, value, detail):
    is_text = value.startswith('"')
    raw = (
        '{"name": VALUE}' if is_text else '{"name": "Lena", "presence": {"enabled": true, "meanSessionMinutes": VALUE}}'
    )
    raw = raw.replace("VALUE", value)
    response = await client.post("/api/v1/agents", content=raw, headers=auth | JSON)
    where = ["body", "name"] if is_text else ["body", "presence", "meanSessionMinutes"]
    assert errors_of(response, detail) == [where]


async def test_a_key_and_a_deep_value_are_named(client: httpx.AsyncClient, auth):
    raw = r'{"description": "x", "count": 1, "data": {"k\ud800": 1}}'
    response = await client.post("/api/v1/agents/generate", content=raw, headers=auth | JSON)
    assert errors_of(response, "surrogate") == [["body", "data", "k\\ud800"]]  # spelled out: the answer is UTF-8
    raw = r'{"description": "x", "count": 1, "data": [1, {"x": 1e999}]}'
    response = await client.post("/api/v1/agents/generate", content=raw, headers=auth | JSON)
    assert errors_of(response, "finite") == [["body", "data", 1, "x"]]


def card_json(spot: str, value: str) -> bytes:
    """A V2 card as raw JSON with `value` (a raw JSON spelling) put at `spot`."""
    card = v2_card()
    placeholder = "__HERE__"
    if spot == "description":
        card["data"]["description"] = placeholder
    elif spot == "extensions":
        card["data"]["extensions"]["deep"] = [placeholder]
    else:  # a lorebook entry's content
        card["data"]["character_book"]["entries"][0]["content"] = placeholder
    return json.dumps(card).replace(f'"{placeholder}"', value).encode()


SPOTS: dict[str, list[str | int]] = {
    "description": ["data", "description"],
    "extensions": ["data", "extensions", "deep", 0],
    "lorebook": ["data", "character_book", "entries", 0, "content"],
}


@pytest.mark.parametrize(("value", "detail"), BAD)
@pytest.mark.parametrize("spot", SPOTS)
async def test_a_card_is_refused_at_the_place_and_nothing_is_stored(client, auth, spot, value, detail):
    response = await client.post("/api/v1/agents/import", content=card_json(spot, value), headers=auth | JSON)
    assert errors_of(response, detail) == [["body", *SPOTS[spot]]]
    chunk = base64.b64encode(card_json(spot, value)).decode()
    response = await client.post("/api/v1/agents/import", content=card_png([("ccv3", chunk)]), headers=auth)
    assert errors_of(response, detail) == [["body", "ccv3", *SPOTS[spot]]]
    assert (await client.get("/api/v1/agents", headers=auth)).json()["data"] == []
    assert (await client.get("/api/v1/contexts", headers=auth)).json()["data"] == []


async def test_generated_agents_with_bad_text_are_asked_again_never_stored(client, auth, fake):
    response = await client.post(
        "/api/v1/agents/generate", json={"description": "x", "count": 2, "model": "fake/agents-badtext"}, headers=auth
    )
    assert response.status_code == 201, response.text
    second_ask = json.loads(fake[1].requests[-1]["messages"][-1]["content"])
    assert any("NUL" in problem for problem in second_ask["problems"])
    assert any("surrogate" in problem for problem in second_ask["problems"])
    agents = (await client.get("/api/v1/agents", headers=auth)).json()["data"]
    assert all("\x00" not in agent["persona"] and agent["location"] == "Berlin, Germany" for agent in agents)
