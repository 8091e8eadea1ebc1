"""One PATCH rule on every resource: null clears an optional field, is a 422 elsewhere; `{}` changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from novaro_lite.config import Settings
from tests.conftest import loopback_settings
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio

# resource path, a body that creates one, the fields that may not be null, the fields null clears
RESOURCES = {
    "agents": ({"name": "Lena", "location": "Berlin", "model": "demo/demo"},
               ["name", "persona", "timezone", "language", "activeHours", "maxBubbles", "contextIds"],
               ["location", "responseTimes", "model"]),
    "contexts": ({"name": "menu", "content": "Bread."}, ["name", "content"], []),
    "webhooks": ({"url": "http://127.0.0.1:9/hook"}, ["url", "description", "enabled"], []),
}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return loopback_settings(tmp_path)


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


@pytest.mark.parametrize("resource", RESOURCES)
async def test_patch_null_clears_an_optional_field(client, auth, resource):
    item = await _create(client, auth, resource)
    for field in RESOURCES[resource][2]:
        response = await client.patch(f"/api/v1/{resource}/{item['id']}", json={field: None}, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()[field] is None


@pytest.mark.parametrize("resource", RESOURCES)
async def test_empty_patch_changes_nothing_on_every_resource(client, auth, resource):
    item = await _create(client, auth, resource)
    response = await client.patch(f"/api/v1/{resource}/{item['id']}", json={}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == item  # updatedAt included: nothing was written
    assert_problem(await client.patch(f"/api/v1/{resource}/nope", json={}, headers=auth), 404)
