"""The playground receiver through a real server: an async reply, with its read event, reaches the open stream
of its own account, and no other; no address is connected to (the loopback is refused here)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from novaro_lite.app import create_app
from novaro_lite.config.settings import DeliverySettings, Settings, WebhookSettings
from novaro_lite.outbound.playground import KEEPALIVE_SECONDS, PLAYGROUND_URL
from novaro_lite.services import Services
from tests.fakes.serve import serve_in_thread

# However long the test waits for an event; the stream's keepalives (every KEEPALIVE_SECONDS) would otherwise
# keep a read waiting for one that never comes alive until the stream closes, 15 minutes on.
WAIT_SECONDS = 45
# A stream silent for longer than its keepalive period is broken: the read fails then.
STREAM_TIMEOUT = httpx.Timeout(20, read=KEEPALIVE_SECONDS + 10)


def _events(response: httpx.Response, deadline: float) -> Iterator[tuple[str, dict[str, Any]]]:
    """The stream's events, until `deadline` (time.monotonic()); past it the test fails, naming what came."""
    name, came = "message", list[str]()
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise AssertionError(f"the awaited event did not come within {WAIT_SECONDS} s; the stream sent {came}")
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            came.append(name)
            yield name, json.loads(line[5:])


def test_playground_receiver_streams_a_reply_and_its_read_event_to_the_accounts_page(tmp_path: Path):
    settings = Settings(
        data_dir=tmp_path / "data",
        webhooks=WebhookSettings(allow_private_networks=False),
        delivery=DeliverySettings(time_scale=1000.0),
    )
    app = create_app(settings)

    async def tokens() -> tuple[str, str]:
        async with app.router.lifespan_context(app):
            services: Services = app.state.services
            mine = (await services.storage.tokens.create("page", "acme", None))[1]
            theirs = (await services.storage.tokens.create("other", "globex", None))[1]
            return mine, theirs

    mine, theirs = asyncio.run(tokens())
    with serve_in_thread(app, lifespan="on") as base, httpx.Client(base_url=base, timeout=STREAM_TIMEOUT) as client:
        auth = {"Authorization": f"Bearer {mine}"}
        agent = client.post("/api/v1/agents", json={"name": "Lena"}, headers=auth).json()
        hook = client.post(
            "/api/v1/webhooks", json={"url": PLAYGROUND_URL, "events": ["reply", "read"]}, headers=auth
        ).json()
        assert hook["url"] == PLAYGROUND_URL
        other = {"Authorization": f"Bearer {theirs}"}
        with (
            client.stream("GET", "/api/v1/playground/events", headers=auth) as stream,
            client.stream("GET", "/api/v1/playground/events", headers=other) as elsewhere,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            deadline = time.monotonic() + WAIT_SECONDS
            events, others = _events(stream, deadline), _events(elsewhere, deadline)
            assert next(events)[0] == "open" and next(others)[0] == "open"
            accepted = client.post("/api/v1/message-requests", headers=auth, json={
                "agentId": agent["id"], "webhookId": hook["id"], "reference": "play", "delay": "immediate",
                "messages": [{"role": "user", "content": "Hallo?"}]}).json()  # fmt: skip
            seen = {}
            for name, data in events:
                if name in {"message.read", "message.reply"}:
                    assert data["id"] == accepted["id"]
                    seen[name] = data
                if "message.reply" in seen:
                    break
            assert "message.read" in seen and seen["message.reply"]["messages"][0]["role"] == "assistant"
        deadline = time.monotonic() + 15  # the 202 is recorded just after the page got the reply
        while (status := client.get(f"/api/v1/message-requests/{accepted['id']}", headers=auth).json()["status"]) in {
            "generating",
            "delivering",
        } and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status == "delivered"
        assert client.get("/api/v1/playground/events", headers={"Authorization": "Bearer nl_x"}).status_code == 401
