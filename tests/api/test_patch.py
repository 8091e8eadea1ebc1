"""One PATCH rule on every resource: null clears an optional field, is a 422 elsewhere; `{}` changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from novaro_lite.config.settings import Settings
from tests.conftest import loopback_settings
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio

# resource path, a body that creates one, the fields that may not be null, the fields null clears
RESOURCES = {
    "agents": ({"name": "Lena", "location": "Berlin", "model": "demo/demo", "nickname": "Le"},
               ["name", "persona", "timezone", "language", "activeHours", "maxBubbles", "contextIds", "greeting",
                "tags", "systemPrompt"],
               ["location", "responseTimes", "model", "nickname"]),
    "contexts": ({"name": "menu", "content": "Bread."}, ["name", "content", "keys", "scanDepth", "selective"], []),
    "webhooks": ({"url": "http://127.0.0.1:9/hook"}, ["url", "description", "enabled"], []),
}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return loopback_settings(tmp_path, database_url=database_url)


async def _create(client, auth, resource: str) -> dict[str, Any]:
    created = await client.post(f"/api/v1/{resource}", json=RESOURCES[resource][0], headers=auth)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    body.pop("secret", None)
    return body


@pytest.mark.parametrize("resource", RESOURCES)
async def test_patch_null_on_a_required_field_is_a_422_naming_it(client, auth, resource):
    item = await _create(client, auth, resource)
    for field in RESOURCES[resource][1]:
        response = await client.patch(f"/api/v1/{resource}/{item['id']}", json={field: None}, headers=auth)
        problem = assert_problem(response, 422, field)
        assert problem["errors"] == [{"loc": ["body", field], "msg": "may not be null"}]
    assert (await client.get(f"/api/v1/{resource}/{item['id']}", headers=auth)).json() == item


@pytest.mark.parametrize(
    ("resource", "change", "said"),
    [
        ("agents", {"name": 5}, "valid string"),
        ("webhooks", {"enabled": "yes please"}, "valid boolean"),
        ("webhooks", {"events": "reply"}, "valid array"),
        ("contexts", {"keys": "a"}, "valid array"),
    ],
)
async def test_patch_of_the_wrong_type_says_what_the_field_takes_not_null(client, auth, resource, change, said):
    """A PATCH field is its type or null: "Input should be null", the null member's word, led every such 422."""
    item = await _create(client, auth, resource)
    problem = assert_problem(await client.patch(f"/api/v1/{resource}/{item['id']}", json=change, headers=auth), 422)
    (error,) = problem["errors"]
    assert error["loc"] == ["body", *change] and said in error["msg"] and "null" not in error["msg"], error


@pytest.mark.parametrize("resource", RESOURCES)
async def test_patch_null_clears_an_optional_field(client, auth, resource):
    item = await _create(client, auth, resource)
    for field in RESOURCES[resource][2]:
        response = await client.patch(f"/api/v1/{resource}/{item['id']}", json={field: None}, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()[field] is None


@pytest.mark.parametrize("resource", RESOURCES)
async def test_empty_patch_changes_nothing_on_every_resource(client, auth, resource, services):
    item = await _create(client, auth, resource)
    clock = services.storage.database.clock
    services.storage.database.clock = lambda: clock() + 3600  # a write now would show in updatedAt
    response = await client.patch(f"/api/v1/{resource}/{item['id']}", json={}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == item  # updatedAt included: nothing was written
    assert_problem(await client.patch(f"/api/v1/{resource}/nope", json={}, headers=auth), 404)


@pytest.mark.parametrize("resource", RESOURCES)
async def test_concurrent_patches_of_different_fields_both_hold(client, auth, resource):
    first, second = {
        "agents": ({"persona": "A florist."}, {"location": "Porto"}),
        "contexts": ({"name": "renamed"}, {"content": "Only cake."}),
        "webhooks": ({"description": "app"}, {"enabled": False}),
    }[resource]
    for _ in range(10):
        item = await _create(client, auth, resource)
        path = f"/api/v1/{resource}/{item['id']}"
        answers = await asyncio.gather(*(client.patch(path, json=body, headers=auth) for body in (first, second)))
        assert [answer.status_code for answer in answers] == [200, 200]
        now = (await client.get(path, headers=auth)).json()
        assert now | first | second == now, now
