from __future__ import annotations

from importlib import resources

import httpx
import pytest

from novaro_lite.services import Services
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio

LENA = {
    "name": "Lena",
    "persona": "A baker in Kreuzberg who loves techno.",
    "location": "Berlin, Germany",
    "timezone": "Europe/Berlin",
    "language": "de",
    "activeHours": {"start": "06:00", "end": "22:30"},
    "responseTimes": [{"upToSeconds": 60, "probability": 0.5}, {"upToSeconds": 600, "probability": 0.5}],
    "model": "demo/demo",
}


async def test_agent_create_then_get_round_trips_every_field(client: httpx.AsyncClient, auth):
    created = await client.post("/api/v1/agents", json=LENA, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("agt_")
    assert {key: body[key] for key in LENA} == LENA
    assert body["createdAt"] == body["updatedAt"] > 0
    fetched = await client.get(f"/api/v1/agents/{body['id']}", headers=auth)
    assert fetched.json() == body


async def test_agent_create_applies_defaults(client: httpx.AsyncClient, auth):
    body = (await client.post("/api/v1/agents", json={"name": "Sam"}, headers=auth)).json()
    assert body["timezone"] == "UTC"
    assert body["language"] == "en"
    assert body["activeHours"] == {"start": "08:00", "end": "23:00"}
    assert body["persona"] == "" and body["location"] is None and body["responseTimes"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"persona": "x" * 20_001}, "persona"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"language": "english!"}, "language"),
        ({"activeHours": {"start": "25:00", "end": "07:00"}}, "activeHours.start"),
        ({"activeHours": {"start": "0\u0668:30", "end": "07:00"}}, "activeHours.start"),  # an Arabic-Indic 8
        ({"responseTimes": [{"upToSeconds": 60, "probability": 0.7}]}, "responseTimes"),
        (
            {"responseTimes": [{"upToSeconds": 60, "probability": 0.5}, {"upToSeconds": 30, "probability": 0.5}]},
            "responseTimes",
        ),
        ({"model": "bad model"}, "model"),
        ({"timezone": "localtime"}, "timezone"),  # a host file, not an IANA zone
        ({"timezone": "Factory"}, "timezone"),
        ({"responseTimes": [{"upToSeconds": 10**20, "probability": 1}]}, "responseTimes.0.upToSeconds"),
        ({"responseTimes": [{"upToSeconds": 7 * 86400 + 1, "probability": 1}]}, "responseTimes.0.upToSeconds"),
        ({"responseTimes": [{"upToSeconds": n + 1, "probability": 1 / 13} for n in range(13)]}, "responseTimes"),
        ({"model": "openai/gpt-4o-mini"}, "model"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_agent_create_rejects_bad_fields_naming_them(client: httpx.AsyncClient, auth, change, field):
    response = await client.post("/api/v1/agents", json={**LENA, **change}, headers=auth)
    body = assert_problem(response, 422, field)
    assert body["errors"][0]["loc"][:2] == ["body", field.split(".")[0]]


async def test_time_zone_list_is_the_tzdata_packages_on_every_machine(client: httpx.AsyncClient):
    spec = (await client.get("/openapi.json")).json()
    zones = set(spec["components"]["schemas"]["AgentCreate"]["properties"]["timezone"]["enum"])
    listed = resources.files("tzdata").joinpath("zones").read_text().split()
    assert zones == set(listed) - {"Factory"} and "Europe/Berlin" in zones and "localtime" not in zones


async def test_agent_patch_changes_only_given_fields(client: httpx.AsyncClient, auth):
    agent = (await client.post("/api/v1/agents", json=LENA, headers=auth)).json()
    response = await client.patch(
        f"/api/v1/agents/{agent['id']}", json={"persona": "Now a florist.", "model": None}, headers=auth
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    # The change is stamped with the wall clock, which may have passed a second since the agent was created.
    assert changed["updatedAt"] >= agent["updatedAt"]
    assert {**changed, "updatedAt": 0} == {**agent, "persona": "Now a florist.", "model": None, "updatedAt": 0}


async def test_agent_delete_answers_204_then_404(client: httpx.AsyncClient, auth):
    agent = (await client.post("/api/v1/agents", json=LENA, headers=auth)).json()
    deleted = await client.delete(f"/api/v1/agents/{agent['id']}", headers=auth)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(await client.get(f"/api/v1/agents/{agent['id']}", headers=auth), 404, agent["id"])
    assert_problem(await client.delete(f"/api/v1/agents/{agent['id']}", headers=auth), 404, agent["id"])


async def test_agent_list_paginates_with_a_cursor(client: httpx.AsyncClient, auth):
    ids = [(await client.post("/api/v1/agents", json={"name": f"a{i}"}, headers=auth)).json()["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/agents", params=params, headers=auth)).json()
        assert len(page["data"]) <= 2
        seen += [agent["id"] for agent in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ids


@pytest.mark.parametrize("path", ["agents", "contexts", "webhooks", "message-requests", "tokens", "groups"])
async def test_every_list_searches_orders_newest_first_and_counts(client: httpx.AsyncClient, auth, path):
    page = (await client.get(f"/api/v1/{path}", params={"q": "no such thing", "order": "newest"}, headers=auth)).json()
    assert page == {"data": [], "nextCursor": None, "total": 0}
    bad = await client.get(f"/api/v1/{path}", params={"order": "sideways"}, headers=auth)
    assert assert_problem(bad, 422, "order")["errors"][0]["loc"] == ["query", "order"]


async def test_agent_list_finds_names_newest_first_with_the_count(client: httpx.AsyncClient, auth):
    for name in ("Mara", "Tom", "Amara", "mark"):
        await client.post("/api/v1/agents", json={"name": name}, headers=auth)
    params: dict[str, str | int] = {"q": "MAR", "order": "newest", "limit": 2}
    page = (await client.get("/api/v1/agents", params=params, headers=auth)).json()
    assert [agent["name"] for agent in page["data"]] == ["mark", "Amara"] and page["total"] == 3
    params["cursor"] = page["nextCursor"]
    page = (await client.get("/api/v1/agents", params=params, headers=auth)).json()
    assert [agent["name"] for agent in page["data"]] == ["Mara"] and page["nextCursor"] is None


async def test_search_ignores_ascii_case_only_the_same_on_both_engines(client: httpx.AsyncClient, auth):
    """PostgreSQL's lower() folded by its locale and SQLite's in ASCII only: "É" found "Émile" on one engine
    and not the other. Both fold ASCII only, as docs/api.md says."""
    for name in ("Émile", "émile", "EMILY", "Ärger"):
        await client.post("/api/v1/agents", json={"name": name}, headers=auth)

    async def found(q: str) -> list[str]:
        page = (await client.get("/api/v1/agents", params={"q": q}, headers=auth)).json()
        return sorted(agent["name"] for agent in page["data"])

    assert await found("É") == ["Émile"]
    assert await found("ä") == []
    assert await found("EMI") == ["EMILY"]
    assert await found("MILE") == ["Émile", "émile"]


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
async def test_agent_list_rejects_bad_limit(client: httpx.AsyncClient, auth, limit):
    body = assert_problem(await client.get("/api/v1/agents", params={"limit": limit}, headers=auth), 422, "limit")
    assert body["errors"][0]["loc"] == ["query", "limit"]


async def test_agents_of_another_account_are_invisible(client: httpx.AsyncClient, auth, services: Services):
    agent = (await client.post("/api/v1/agents", json=LENA, headers=auth)).json()
    _, other = await services.storage.tokens.create("other", "globex", None)
    theirs = {"Authorization": f"Bearer {other}"}
    assert (await client.get("/api/v1/agents", headers=theirs)).json()["data"] == []
    for method in ("GET", "DELETE"):
        assert_problem(await client.request(method, f"/api/v1/agents/{agent['id']}", headers=theirs), 404)
    assert_problem(await client.patch(f"/api/v1/agents/{agent['id']}", json={"name": "x"}, headers=theirs), 404)
    assert (await client.get(f"/api/v1/agents/{agent['id']}", headers=auth)).json() == agent


async def test_character_fields_are_set_changed_and_bounded(client: httpx.AsyncClient, auth):
    body = {"name": "Mira", "greeting": "Hi!", "alternateGreetings": ["Yo"], "exampleMessages": "<START>",
            "systemPrompt": "Be kind.", "postHistoryInstructions": "Short.", "nickname": "Mimi", "tags": ["a"],
            "creator": "me", "creatorNotes": "notes", "characterVersion": "2"}  # fmt: skip
    agent = (await client.post("/api/v1/agents", json=body, headers=auth)).json()
    assert {key: agent[key] for key in body} == body
    plain = (await client.post("/api/v1/agents", json={"name": "Plain"}, headers=auth)).json()
    assert (plain["greeting"], plain["tags"], plain["nickname"], plain["alternateGreetings"]) == ("", [], None, [])
    patched = await client.patch(f"/api/v1/agents/{agent['id']}", json={"nickname": None, "tags": []}, headers=auth)
    assert (patched.json()["nickname"], patched.json()["tags"], patched.json()["greeting"]) == (None, [], "Hi!")
    for bad, where in (
        ({"tags": None}, "tags"),
        ({"greeting": "x" * 20_001}, "greeting"),
        ({"alternateGreetings": ["x"] * 51}, "alternateGreetings"),
        ({"tags": ["x" * 201]}, "tags"),
        ({"nickname": ""}, "nickname"),
    ):
        assert_problem(await client.patch(f"/api/v1/agents/{agent['id']}", json=bad, headers=auth), 422, where)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/agents", {"name": "   "}),
        ("POST", "/api/v1/contexts", {"name": " \t ", "content": "x"}),
        ("POST", "/api/v1/tokens", {"name": "  "}),
    ],
)
async def test_names_blank_after_trimming_are_refused_in_plain_words(
    client: httpx.AsyncClient, auth, method, path, body
):
    answer = await client.request(method, path, json=body, headers=auth)
    assert_problem(answer, 422)
    assert answer.json()["errors"] == [{"loc": ["body", "name"], "msg": "must have a character other than spaces"}]


async def test_agent_rename_to_blank_is_refused(client: httpx.AsyncClient, auth):
    agent = (await client.post("/api/v1/agents", json={"name": "Lena"}, headers=auth)).json()
    answer = await client.patch(f"/api/v1/agents/{agent['id']}", json={"name": "  "}, headers=auth)
    assert_problem(answer, 422)
    assert (await client.get(f"/api/v1/agents/{agent['id']}", headers=auth)).json()["name"] == "Lena"
