"""Token families through the API: a minted token never outlives or outranks its minter, shares its rate-limit
budget, and revokes only itself and what was minted under it; the account's live tokens are capped."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from novaro_lite.app import create_app
from novaro_lite.config.sections import LimitsSettings
from novaro_lite.config.settings import Settings
from novaro_lite.services import Services
from tests.fakes.clock import Clock
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.now = 1_800_000_000.0  # the start of a minute: every call below falls in one rate-limit window
    return clock


@pytest.fixture
async def world(settings: Settings, clock: Clock) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    limits = LimitsSettings(tokens_per_account=8)
    app = create_app(dataclasses.replace(settings, limits=limits), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app.state.services, client


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def mint(client: httpx.AsyncClient, secret: str, **body: object) -> dict[str, object]:
    created = await client.post("/api/v1/tokens", json={"name": "child", **body}, headers=bearer(secret))
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_a_token_about_to_expire_mints_none_that_outlives_it(world, clock: Clock):
    services, client = world
    dying, secret = await services.storage.tokens.create("dying", "acme", 2, None)
    child = await mint(client, secret)
    assert child["expiresAt"] == dying.expires_at
    longer = await client.post("/api/v1/tokens", json={"name": "x", "expiresIn": 60}, headers=bearer(secret))
    assert_problem(longer, 422, "expiresIn")
    clock.now += 2
    for held in (secret, str(child["token"])):
        assert_problem(await client.get("/api/v1/auth/verify", headers=bearer(held)), 401, "expired")


async def test_a_limited_token_mints_no_faster_one(world):
    services, client = world
    _, secret = await services.storage.tokens.create("slow", "acme", None, 5)
    assert (await mint(client, secret))["rateLimit"] == 5
    faster = await client.post("/api/v1/tokens", json={"name": "x", "rateLimit": 6}, headers=bearer(secret))
    assert_problem(faster, 422, "rateLimit")


async def test_a_token_and_the_tokens_minted_under_it_share_one_budget(world):
    services, client = world
    _, parent = await services.storage.tokens.create("five-a-minute", "acme", None, 5)
    children = [str((await mint(client, parent))["token"]) for _ in range(4)]  # 4 calls of the 5
    grandchild = str((await mint(client, children[0]))["token"])  # the 5th
    statuses = [
        (await client.get("/api/v1/auth/verify", headers=bearer(held))).status_code
        for held in [parent, *children, grandchild]
    ]
    assert statuses == [429] * 6
    refused = await client.get("/api/v1/auth/verify", headers=bearer(grandchild))
    assert_problem(refused, 429, "5 requests a minute")


async def test_a_budget_below_is_spent_by_its_own_family_only(world):
    services, client = world
    _, root = await services.storage.tokens.create("root", "acme", None, 100)
    a = str((await mint(client, root, rateLimit=2))["token"])
    b = str((await mint(client, root, rateLimit=2))["token"])
    a_child = str((await mint(client, a))["token"])  # a's 1st call
    assert (await client.get("/api/v1/auth/verify", headers=bearer(a_child))).status_code == 200  # a's 2nd
    assert (await client.get("/api/v1/auth/verify", headers=bearer(a))).status_code == 429
    assert (await client.get("/api/v1/auth/verify", headers=bearer(b))).status_code == 200  # a sibling's own
    assert (await client.get("/api/v1/auth/verify", headers=bearer(root))).status_code == 200


async def test_a_token_revokes_itself_and_its_descendants_never_its_creator_or_a_sibling(world):
    services, client = world
    operator, root = await services.storage.tokens.create("operator's", "acme", None, None)
    other_operator, other_root = await services.storage.tokens.create("another of the operator's", "acme", None)
    child = await mint(client, root)
    sibling = await mint(client, root)
    grandchild = await mint(client, str(child["token"]))
    great = await mint(client, str(grandchild["token"]))
    assert great["mintedBy"] == grandchild["id"] and child["mintedBy"] == operator.id
    child_auth = bearer(str(child["token"]))
    for target in (operator.id, sibling["id"], other_operator.id):
        assert_problem(await client.delete(f"/api/v1/tokens/{target}", headers=child_auth), 403, "minted under")
    assert_problem(await client.delete(f"/api/v1/tokens/{other_operator.id}", headers=bearer(root)), 403)
    assert_problem(await client.delete(f"/api/v1/tokens/{operator.id}", headers=bearer(other_root)), 403)
    assert (await client.delete(f"/api/v1/tokens/{grandchild['id']}", headers=child_auth)).status_code == 204
    for gone in (grandchild, great):
        assert_problem(await client.get("/api/v1/auth/verify", headers=bearer(str(gone["token"]))), 401, "revoked")
    assert (await client.delete(f"/api/v1/tokens/{child['id']}", headers=child_auth)).status_code == 204
    for alive in (root, other_root, str(sibling["token"])):
        assert (await client.get("/api/v1/auth/verify", headers=bearer(alive))).status_code == 200


async def test_revoking_a_token_with_the_cli_revokes_what_was_minted_under_it(world):
    services, client = world
    operator, root = await services.storage.tokens.create("operator's", "acme", None, None)
    child = await mint(client, root)
    grandchild = await mint(client, str(child["token"]))
    await services.storage.tokens.revoke(operator.id)  # what `novaro-lite token revoke` runs
    for gone in (root, str(child["token"]), str(grandchild["token"])):
        assert_problem(await client.get("/api/v1/auth/verify", headers=bearer(gone)), 401, "revoked")


async def test_an_account_holds_at_most_tokens_per_account_live_tokens(world, clock: Clock):
    services, client = world
    _, root = await services.storage.tokens.create("root", "acme", None, None)
    await services.storage.tokens.create("other account", "globex", None, None)
    short = await mint(client, root, expiresIn=60)
    minted = [await mint(client, root) for _ in range(6)]  # 8 live in acme now
    assert_problem(await client.post("/api/v1/tokens", json={"name": "x"}, headers=bearer(root)), 409, "8 live")
    assert (await client.delete(f"/api/v1/tokens/{minted[0]['id']}", headers=bearer(root))).status_code == 204
    await mint(client, root)
    clock.now += 60  # an expired token no longer counts
    await mint(client, root)
    assert_problem(await client.post("/api/v1/tokens", json={"name": "x"}, headers=bearer(root)), 409)
    assert short["expiresAt"] is not None


async def test_a_token_revoked_while_its_mint_request_is_under_way_mints_nothing(world):
    """The API authenticates a caller before it reads the body, so a client trickling the body can have its
    token revoked in between: the mint reads the parent again under the lock revoking takes, and refuses."""
    from novaro_lite.domain.tokens import hash_token
    from novaro_lite.errors import AuthError

    services, client = world
    _, root = await services.storage.tokens.create("root", "acme", None, None)
    child = await mint(client, root)
    authenticated = await services.storage.tokens.find(hash_token(str(child["token"])))
    assert authenticated is not None  # what the request holds, checked before its body arrived
    assert (await client.delete(f"/api/v1/tokens/{child['id']}", headers=bearer(root))).status_code == 204
    with pytest.raises(AuthError, match="revoked"):
        await services.storage.tokens.mint(authenticated, "grandchild", None, None, most_live=8)
    listed = (await client.get("/api/v1/tokens", headers=bearer(root))).json()["data"]
    assert "grandchild" not in [token["name"] for token in listed]
