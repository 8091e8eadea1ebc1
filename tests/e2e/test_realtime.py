"""Realtime replies through the real server: streaming disconnects, and a subprocess configured by TOML."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.datastructures import Secret

from novaro_lite.app import create_app
from novaro_lite.config.settings import ProviderSettings, Settings
from novaro_lite.services import Services
from tests.e2e.server import running_server
from tests.fakes.llm import API_KEY, Recorder, openai_app
from tests.fakes.serve import serve_in_thread


@pytest.fixture
def openai_fake() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    with serve_in_thread(openai_app(recorder)) as url:
        yield url, recorder


def test_client_disconnect_cancels_the_upstream_stream(tmp_path: Path, openai_fake):
    url, recorder = openai_fake
    provider = ProviderSettings(base_url=f"{url}/v1", api_key=Secret(API_KEY), model="slow-stream")
    app = create_app(Settings(data_dir=tmp_path / "data", providers={"fake": provider}))

    async def token() -> str:
        async with app.router.lifespan_context(app):
            services: Services = app.state.services
            return (await services.storage.tokens.create("t", "acme", None))[1]

    secret = asyncio.run(token())
    with serve_in_thread(app, lifespan="on") as base, httpx.Client(base_url=base, timeout=10) as client:
        headers = {"Authorization": f"Bearer {secret}"}
        agent = client.post("/api/v1/agents", json={"name": "Slow", "model": "fake"}, headers=headers).json()
        body = {"agentId": agent["id"], "messages": [{"role": "user", "content": "talk"}], "stream": True}
        with client.stream("POST", "/api/v1/messages", json=body, headers=headers) as response:
            assert response.status_code == 200
            first = next(response.iter_lines())
            assert first == "event: delta"
        left_at = time.monotonic()
        deadline = left_at + 5
        while recorder.stream_closed_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert recorder.stream_closed_at is not None, "the upstream kept streaming after the client left"
        assert recorder.stream_closed_at - left_at < 2


def test_served_process_answers_through_a_provider_from_its_toml(tmp_path: Path, openai_fake):
    url, recorder = openai_fake
    config = tmp_path / "novaro.toml"
    config.write_text(
        f'[defaults]\nprovider = "local"\n\n[providers.local]\nkind = "openai"\nbase_url = "{url}/v1"\n'
        'api_key_env = "FAKE_LLM_KEY"\nmodel = "echo"\n'
    )
    with running_server(["--config", str(config)], cwd=tmp_path, env={"FAKE_LLM_KEY": API_KEY}) as server:
        headers = {"Authorization": f"Bearer {server.first_token}"}
        agent = httpx.post(f"{server.url}/api/v1/agents", json={"name": "Ana"}, headers=headers).json()
        body = {"agentId": agent["id"], "messages": [{"role": "user", "content": "olá"}]}
        reply = httpx.post(f"{server.url}/api/v1/messages", json=body, headers=headers)
        assert reply.status_code == 200, reply.text
        assert reply.json()["messages"][0]["content"] == "Echo: olá"
        assert reply.json()["usage"]["provider"] == "local"
    assert recorder.headers[-1]["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in "".join(server.output)
