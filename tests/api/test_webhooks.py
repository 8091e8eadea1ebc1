from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from novaro_lite.config.settings import SchedulerSettings, Settings
from novaro_lite.domain.webhooks import secret_digest
from tests.conftest import loopback_settings
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return loopback_settings(tmp_path, database_url=database_url)


async def test_webhook_secret_is_shown_at_creation_and_never_again(client, auth, receiver):
    created = await client.post("/api/v1/webhooks", json={"url": receiver[0], "description": "app"}, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["enabled"] is True and body["id"].startswith("whk_")
    shown = (await client.get(f"/api/v1/webhooks/{body['id']}", headers=auth)).json()
    assert "secret" not in shown and shown["url"] == receiver[0]
    listed = (await client.get("/api/v1/webhooks", headers=auth)).json()
    assert [w["id"] for w in listed["data"]] == [body["id"]] and "secret" not in listed["data"][0]


async def test_webhook_patch_delete_and_account_isolation(client, auth, services, receiver):
    hook = (await client.post("/api/v1/webhooks", json={"url": receiver[0]}, headers=auth)).json()
    changed = await client.patch(f"/api/v1/webhooks/{hook['id']}", json={"enabled": False}, headers=auth)
    assert changed.json()["enabled"] is False and changed.json()["description"] == ""
    _, other = await services.storage.tokens.create("other", "globex", None)
    theirs = {"Authorization": f"Bearer {other}"}
    assert_problem(await client.get(f"/api/v1/webhooks/{hook['id']}", headers=theirs), 404)
    assert_problem(await client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=theirs), 404)
    assert (await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=auth)).status_code == 204
    assert_problem(await client.get(f"/api/v1/webhooks/{hook['id']}", headers=auth), 404)


async def test_webhook_test_ping_is_signed_and_reports_the_answer(client, auth, receiver):
    url, hooks = receiver
    hook = (await client.post("/api/v1/webhooks", json={"url": url}, headers=auth)).json()
    hooks.script.append(418)
    result = (await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=auth)).json()
    assert result["delivered"] is False and result["statusCode"] == 418 and result["responseBody"] == "answer 418"
    ping = hooks.deliveries[-1]
    Verifier(hook["secret"]).verify(ping.body, ping.headers)
    assert ping.json["messages"] == [] and ping.json["secret"] == secret_digest(hook["secret"])
    assert (await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=auth)).json()["delivered"] is True


async def test_webhook_rotation_signs_with_both_secrets_for_a_day(client, auth, receiver):
    url, hooks = receiver
    hook = (await client.post("/api/v1/webhooks", json={"url": url}, headers=auth)).json()
    rotated = (await client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=auth)).json()
    assert rotated["secret"] != hook["secret"] and rotated["previousSecretValidUntil"] > rotated["updatedAt"]
    await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=auth)
    ping = hooks.deliveries[-1]
    assert len(ping.headers["webhook-signature"].split(" ")) == 2
    for secret in (hook["secret"], rotated["secret"]):
        Verifier(secret).verify(ping.body, ping.headers)


async def test_webhook_to_a_private_address_is_refused_by_default(tmp_path, auth_for):
    async with auth_for(Settings(data_dir=tmp_path / "d", scheduler=SchedulerSettings(enabled=False))) as (c, h):
        response = await c.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=h)
    body = assert_problem(response, 422, "allow_private_networks")
    assert body["errors"][0]["loc"] == ["body", "url"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "not a url",
        "",
        "http://[::1/hook",
        "http://127.0.0.1/\x01",  # a control character: aiohttp would refuse every delivery
        "http://127.0.0.1/\x7f",
        "http://127.0.0.1/a b",
        "http://127.0.0.1:0/hook",  # no server listens on port 0
    ],
)
async def test_webhook_url_must_be_http(client, auth, url):
    assert_problem(await client.post("/api/v1/webhooks", json={"url": url}, headers=auth), 422, "url")


async def test_a_webhook_url_scheme_in_capitals_is_accepted_and_a_wrong_one_is_said_in_words(client, auth):
    """Schemes are case-insensitive (RFC 3986): HTTPS://… was a 422 quoting a regular expression."""
    created = await client.post("/api/v1/webhooks", json={"url": "HTTPS://203.0.114.7/a"}, headers=auth)
    assert created.status_code == 201, created.text
    refused = assert_problem(await client.post("/api/v1/webhooks", json={"url": "ftp://x"}, headers=auth), 422)
    assert refused["errors"][0]["msg"].startswith("must be an http:// or https:// URL"), refused
    assert "pattern" not in refused["detail"]


@pytest.fixture
def auth_for():
    import contextlib

    from novaro_lite.app import create_app

    @contextlib.asynccontextmanager
    async def start(settings: Settings):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            _, token = await app.state.services.storage.tokens.create("t", "acme", None)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client, {"Authorization": f"Bearer {token}"}

    return start


async def test_webhook_urls_with_credentials_are_refused_without_echoing_them(client, auth, receiver):
    with_credentials = receiver[0].replace("http://", "http://user:hunter2@")
    created = await client.post("/api/v1/webhooks", json={"url": with_credentials}, headers=auth)
    assert_problem(created, 422, "user name or password")
    assert "hunter2" not in created.text
    hook = (await client.post("/api/v1/webhooks", json={"url": receiver[0]}, headers=auth)).json()
    patched = await client.patch(f"/api/v1/webhooks/{hook['id']}", json={"url": with_credentials}, headers=auth)
    assert_problem(patched, 422, "user name or password")
