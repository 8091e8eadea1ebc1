"""/api/v1/groups: create, list, show, change and delete groups of agents; the rules a group keeps."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from novaro_lite.services import Services
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


async def new_agent(client: httpx.AsyncClient, auth: dict[str, str], name: str, **fields: Any) -> str:
    response = await client.post("/api/v1/agents", json={"name": name, **fields}, headers=auth)
    assert response.status_code == 201, response.text
    agent_id: str = response.json()["id"]
    return agent_id


async def new_group(client: httpx.AsyncClient, auth: dict[str, str], *agent_ids: str, **fields: Any) -> dict[str, Any]:
    members = [{"agentId": agent_id} for agent_id in agent_ids]
    response = await client.post(
        "/api/v1/groups", json={"name": "Flatmates", "members": members, **fields}, headers=auth
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_group_crud_with_defaults(client, auth):
    lena, marco = await new_agent(client, auth, "Lena"), await new_agent(client, auth, "Marco")
    body = {"name": "Flatmates", "members": [{"agentId": lena, "talkativeness": 80}, {"agentId": marco}]}
    created = (await client.post("/api/v1/groups", json=body, headers=auth)).json()
    assert created["id"].startswith("grp_")
    assert created["members"] == [{"agentId": lena, "talkativeness": 80}, {"agentId": marco, "talkativeness": 50}]
    assert (created["strategy"], created["maxAgentTurns"], created["notice"]) == ("natural", 2, None)
    assert (await client.get(f"/api/v1/groups/{created['id']}", headers=auth)).json() == created
    assert [g["id"] for g in (await client.get("/api/v1/groups", headers=auth)).json()["data"]] == [created["id"]]
    patched = await client.patch(
        f"/api/v1/groups/{created['id']}", json={"strategy": "list", "maxAgentTurns": 3}, headers=auth
    )
    assert (patched.json()["strategy"], patched.json()["maxAgentTurns"]) == ("list", 3)
    assert patched.json()["members"] == created["members"]
    assert (await client.delete(f"/api/v1/groups/{created['id']}", headers=auth)).status_code == 204
    assert_problem(await client.get(f"/api/v1/groups/{created['id']}", headers=auth), 404)
    assert (await client.get(f"/api/v1/agents/{lena}", headers=auth)).status_code == 200


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"members": "one"}, "members"),
        ({"name": ""}, "name"),
        ({"strategy": "loudest"}, "strategy"),
        ({"maxAgentTurns": 0}, "maxAgentTurns"),
        ({"maxAgentTurns": 7}, "maxAgentTurns"),
        ({"talkativeness": 101}, "talkativeness"),
        ({"duplicate": True}, "once"),
        ({"eleven": True}, "members"),
    ],
)
async def test_group_limits_are_422(client, auth, change, where):
    lena, marco = await new_agent(client, auth, "Lena"), await new_agent(client, auth, "Marco")
    members: Any = [{"agentId": lena}, {"agentId": marco}]
    change = dict(change)  # the same dict serves both engines' runs
    if change.pop("duplicate", False):
        members = [{"agentId": lena}, {"agentId": lena}]
    if change.pop("eleven", False):
        members = [{"agentId": f"agt_{n}"} for n in range(11)]
    if "talkativeness" in change:
        members[0]["talkativeness"] = change.pop("talkativeness")
    body = {"name": "Flat", "members": members, **change}
    assert_problem(await client.post("/api/v1/groups", json=body, headers=auth), 422, where)


async def test_members_must_be_the_accounts_agents(client, auth, services: Services):
    lena = await new_agent(client, auth, "Lena")
    body = {"name": "Flat", "members": [{"agentId": lena}, {"agentId": "agt_nope"}]}
    problem = assert_problem(await client.post("/api/v1/groups", json=body, headers=auth), 422, "agt_nope")
    assert problem["errors"][0]["loc"] == ["body", "members", 1, "agentId"]
    _, other = await services.storage.tokens.create("o", "globex", None)
    theirs = {"Authorization": f"Bearer {other}"}
    mine = await new_group(client, auth, lena, await new_agent(client, auth, "Marco"))
    assert_problem(await client.get(f"/api/v1/groups/{mine['id']}", headers=theirs), 404)
    foreign = {"name": "Flat", "members": [{"agentId": lena}, {"agentId": await new_agent(client, theirs, "X")}]}
    assert_problem(await client.post("/api/v1/groups", json=foreign, headers=theirs), 422, lena)


async def test_deleting_agents_removes_them_and_the_group_says_so(client, auth):
    lena, marco = await new_agent(client, auth, "Lena"), await new_agent(client, auth, "Marco")
    group = await new_group(client, auth, lena, marco)
    await client.delete(f"/api/v1/agents/{marco}", headers=auth)
    alone = (await client.get(f"/api/v1/groups/{group['id']}", headers=auth)).json()
    assert alone["members"] == [{"agentId": lena, "talkativeness": 50}] and "one member" in alone["notice"]
    await client.delete(f"/api/v1/agents/{lena}", headers=auth)
    empty = (await client.get(f"/api/v1/groups/{group['id']}", headers=auth)).json()
    assert empty["members"] == [] and "deleted" in empty["notice"]


async def test_the_openapi_document_shows_a_group_example(client):
    spec = (await client.get("/openapi.json")).json()
    create = spec["paths"]["/api/v1/groups"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][create["$ref"].rsplit("/", 1)[-1]]
    assert schema["examples"][0]["strategy"] == "natural"
