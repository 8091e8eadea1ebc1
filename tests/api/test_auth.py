from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route

from novaro_lite.api.dashboard import PAGES
from novaro_lite.services import Services
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio

PUBLIC_PATHS = {
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/scalar",
    "/static/scalar/standalone.js",
    "/static/scalar/start.js",
    *(page.replace("{id}", "x") for page in PAGES),
    "/dashboard/main.js",
    "/problems/{slug}",
}


async def test_verify_returns_token_identity(client: httpx.AsyncClient, services: Services):
    created, secret = await services.storage.tokens.create("my-app", "acme", 3600)
    response = await client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json() == {"id": created.id, "name": "my-app", "account": "acme", "expiresAt": created.expires_at}


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "header is missing"),
        ("Basic dXNlcjpwYXNz", "malformed"),
        ("Bearer", "malformed"),
        ("Bearer a b", "malformed"),
        ("Bearer sk-not-ours", "not a novaro-lite token"),
        ("Bearer nl_unknownunknownunknownunknownunknown1234", "unknown or has been revoked"),
    ],
)
async def test_verify_refuses_bad_credentials_with_a_precise_reason(client: httpx.AsyncClient, header, detail):
    headers = {} if header is None else {"Authorization": header}
    response = await client.get("/api/v1/auth/verify", headers=headers)
    assert_problem(response, 401, detail)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_verify_refuses_revoked_token(client: httpx.AsyncClient, services: Services):
    created, secret = await services.storage.tokens.create("gone", "acme", None)
    await services.storage.tokens.revoke(created.id)
    response = await client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {secret}"})
    assert_problem(response, 401, "revoked")


async def test_verify_refuses_expired_token(settings, tmp_path):
    from novaro_lite.app import create_app

    now = [1_800_000_000.0]
    app = create_app(settings, clock=lambda: now[0])
    async with app.router.lifespan_context(app):
        _, secret = await app.state.services.storage.tokens.create("short", "acme", 60)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = {"Authorization": f"Bearer {secret}"}
            assert (await client.get("/api/v1/auth/verify", headers=headers)).status_code == 200
            now[0] += 61
            assert_problem(await client.get("/api/v1/auth/verify", headers=headers), 401, "expired")


async def test_token_last_used_is_recorded(client: httpx.AsyncClient, services: Services):
    created, secret = await services.storage.tokens.create("used", "acme", None)
    assert created.last_used_at is None
    await client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {secret}"})
    (stored,) = [t for t in await services.storage.tokens.list() if t.id == created.id]
    assert stored.last_used_at is not None


async def test_every_non_public_route_requires_a_token(app, client: httpx.AsyncClient):
    checked = 0
    for route in app.routes:
        assert isinstance(route, Route)
        if route.path in PUBLIC_PATHS or route.name.startswith("dashboard:"):  # public: the shell and files
            continue
        path = route.path.replace("{id}", "agt_x")
        for method in sorted(route.methods or ()):
            response = await client.request(method, path, json={})
            assert response.status_code == 401, f"{method} {path} answered {response.status_code} without a token"
            checked += 1
    assert checked >= 6


async def test_public_routes_answer_without_a_token(client: httpx.AsyncClient):
    for path in sorted(PUBLIC_PATHS):
        path = path.replace("{slug}", "validation")
        assert (await client.get(path)).status_code == 200, path
