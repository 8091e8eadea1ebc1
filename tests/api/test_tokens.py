from __future__ import annotations

import httpx
import pytest

from novaro_lite.services import Services
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


async def test_token_created_through_the_api_is_shown_once_and_works(client: httpx.AsyncClient, auth):
    created = await client.post("/api/v1/tokens", json={"name": "ci", "expiresIn": 3600}, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["token"].startswith("nl_") and body["prefix"] == body["token"][:10]
    assert body["expiresAt"] == body["createdAt"] + 3600 and body["lastUsedAt"] is None
    verified = await client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {body['token']}"})
    assert verified.json()["account"] == "acme" and verified.json()["id"] == body["id"]
    listed = (await client.get("/api/v1/tokens", headers=auth)).json()["data"]
    assert sorted(t["name"] for t in listed) == ["ci", "tests"]
    assert all("token" not in t for t in listed)


async def test_token_list_and_revoke_stay_inside_the_account(client: httpx.AsyncClient, auth, services: Services):
    theirs, their_secret = await services.storage.tokens.create("other", "globex", None)
    listed = (await client.get("/api/v1/tokens", headers=auth)).json()["data"]
    assert theirs.id not in [t["id"] for t in listed]
    assert_problem(await client.delete(f"/api/v1/tokens/{theirs.id}", headers=auth), 404, theirs.id)
    still = await client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {their_secret}"})
    assert still.status_code == 200


async def test_token_revoked_disappears_and_stops_working(client: httpx.AsyncClient, auth):
    body = (await client.post("/api/v1/tokens", json={"name": "old"}, headers=auth)).json()
    assert body["expiresAt"] is None
    assert (await client.delete(f"/api/v1/tokens/{body['id']}", headers=auth)).status_code == 204
    assert body["id"] not in [t["id"] for t in (await client.get("/api/v1/tokens", headers=auth)).json()["data"]]
    gone = await client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {body['token']}"})
    assert_problem(gone, 401, "revoked")
    assert_problem(await client.delete(f"/api/v1/tokens/{body['id']}", headers=auth), 404)


async def test_token_revoking_the_one_in_use_ends_its_access(client: httpx.AsyncClient, auth):
    me = (await client.get("/api/v1/auth/verify", headers=auth)).json()
    assert (await client.delete(f"/api/v1/tokens/{me['id']}", headers=auth)).status_code == 204
    assert_problem(await client.get("/api/v1/tokens", headers=auth), 401, "revoked")


@pytest.mark.parametrize(
    ("body", "where"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x", "expiresIn": 5}, "expiresIn"), ({"name": "x", "y": 1}, "y")],
)
async def test_token_create_refuses_bad_bodies(client: httpx.AsyncClient, auth, body, where):
    assert_problem(await client.post("/api/v1/tokens", json=body, headers=auth), 422, where)


async def test_tokens_are_in_the_openapi(client: httpx.AsyncClient):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/api/v1/tokens"]) == {"get", "post"} and set(paths["/api/v1/tokens/{id}"]) == {"delete"}


async def test_a_token_cannot_mint_one_with_more_than_its_own_limit_or_lifetime(client: httpx.AsyncClient, services):
    limited, secret = await services.storage.tokens.create("handed-out", "acme", 3600, 3)
    theirs = {"Authorization": f"Bearer {secret}"}
    higher = await client.post("/api/v1/tokens", json={"name": "x", "rateLimit": 1_000_000}, headers=theirs)
    assert_problem(higher, 422, "rateLimit")
    longer = await client.post("/api/v1/tokens", json={"name": "x", "expiresIn": 7200}, headers=theirs)
    assert_problem(longer, 422, "expiresIn")
    minted = (await client.post("/api/v1/tokens", json={"name": "x"}, headers=theirs)).json()
    assert minted["rateLimit"] == 3 and minted["expiresAt"] <= limited.expires_at


async def test_a_minted_token_never_outlives_its_parent_even_when_the_lifetime_was_read_a_second_earlier(services):
    # The API reads the parent's remaining lifetime at one clock second and the store adds it at a later one:
    # the store caps the child's expiry at the parent's, so the family cannot gain that second.
    parent, _ = await services.storage.tokens.create("handed-out", "acme", 60, None)
    child, _ = await services.storage.tokens.mint(parent, "child", 61, None, 100)
    everlasting, _ = await services.storage.tokens.mint(parent, "no-lifetime-asked", None, None, 100)
    assert child.expires_at == parent.expires_at == everlasting.expires_at
