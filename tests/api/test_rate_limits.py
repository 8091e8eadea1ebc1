from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

from novaro_lite.app import create_app
from novaro_lite.cli.main import main
from novaro_lite.config.sections import LimitsSettings
from novaro_lite.config.settings import Settings
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_010.0  # 10 s into a minute

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def limited(settings: Settings, clock: Clock) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(dataclasses.replace(settings, limits=LimitsSettings(rate_limit_per_minute=4)), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


async def test_the_server_default_counts_every_call_and_answers_429_with_ratelimit_headers(limited, clock):
    app, client = limited
    secret = (await app.state.services.storage.tokens.create("t", "acme", None))[1]
    auth = {"Authorization": f"Bearer {secret}"}
    agent = (await client.post("/api/v1/agents", json={"name": "Ana"}, headers=auth)).json()
    assert (await client.get("/api/v1/agents", headers=auth)).headers["RateLimit"] == '"token";r=2;t=50'
    realtime = {"agentId": agent["id"], "messages": [{"role": "user", "content": "hi"}]}
    answered = await client.post("/api/v1/messages", json=realtime, headers=auth)
    assert answered.status_code == 200 and answered.headers["RateLimit-Policy"] == '"token";q=4;w=60'
    async_request = {
        "agentId": agent["id"],
        "webhookId": "whk_none",
        "reference": "r",
        "messages": realtime["messages"],
    }
    missing = await client.post("/api/v1/message-requests", json=async_request, headers=auth)
    assert missing.status_code == 404 and missing.headers["RateLimit"] == '"token";r=0;t=50'  # counted, and says so
    refused = await client.get("/api/v1/auth/verify", headers=auth)
    body = assert_problem(refused, 429, "4 requests a minute")
    assert body["type"].endswith("/rate-limited")
    assert refused.headers["Retry-After"] == "50"
    assert refused.headers["RateLimit"] == '"token";r=0;t=50' and "x-request-id" in refused.headers
    clock.now += 50
    assert (await client.get("/api/v1/auth/verify", headers=auth)).status_code == 200


async def test_a_token_own_limit_wins_over_the_default_and_public_routes_are_not_counted(limited):
    app, client = limited
    secret = (await app.state.services.storage.tokens.create("t", "acme", None))[1]
    auth = {"Authorization": f"Bearer {secret}"}
    created = await client.post("/api/v1/tokens", json={"name": "slow", "rateLimit": 1}, headers=auth)
    assert created.status_code == 201 and created.json()["rateLimit"] == 1
    slow = {"Authorization": f"Bearer {created.json()['token']}"}
    for _ in range(5):
        assert (await client.get("/healthz", headers=slow)).status_code == 200
    assert (await client.get("/api/v1/auth/verify", headers=slow)).status_code == 200
    assert (await client.get("/api/v1/auth/verify", headers=slow)).status_code == 429
    listed = (await client.get("/api/v1/tokens", headers=auth)).json()["data"]
    assert {token["name"]: token["rateLimit"] for token in listed} == {"t": None, "slow": 1}


async def test_no_limit_by_default_and_no_headers(client: httpx.AsyncClient, auth):
    for _ in range(3):
        response = await client.get("/api/v1/auth/verify", headers=auth)
        assert response.status_code == 200 and "RateLimit" not in response.headers


@pytest.mark.parametrize("value", [0, -1, 1_000_001, "10"])
async def test_the_tokens_api_checks_the_rate_limit(client: httpx.AsyncClient, auth, value):
    response = await client.post("/api/v1/tokens", json={"name": "x", "rateLimit": value}, headers=auth)
    assert_problem(response, 422, "rateLimit")


def test_cli_token_create_takes_a_rate_limit_the_app_enforces(tmp_path: Path):
    data = ["--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(
        main, ["token", "create", "--name", "bot", "--rate-limit", "2", *data], env={"NOVARO_LITE_CONFIG": ""}
    )
    assert result.exit_code == 0, result.output
    auth = {"Authorization": f"Bearer {result.stdout.strip()}"}

    async def statuses() -> list[int]:
        app = create_app(Settings(data_dir=tmp_path / "data"))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                return [(await client.get("/api/v1/auth/verify", headers=auth)).status_code for _ in range(3)]

    assert asyncio.run(statuses()) == [200, 200, 429]
    bad = CliRunner().invoke(main, ["token", "create", "--name", "b", "--rate-limit", "0", *data])
    assert bad.exit_code != 0 and "--rate-limit" in bad.output


async def test_the_openai_face_counts_too_and_answers_429_in_its_own_shape(limited):
    app, client = limited
    secret = (await app.state.services.storage.tokens.create("t", "acme", None))[1]
    auth = {"Authorization": f"Bearer {secret}"}
    statuses = [(await client.get("/v1/models", headers=auth)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    refused = await client.get("/v1/models", headers=auth)
    assert refused.json()["error"]["code"] == "rate_limit_exceeded" and refused.headers["Retry-After"] == "50"
