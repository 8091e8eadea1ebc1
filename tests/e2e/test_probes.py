"""The classes of input that once reached a 500 (issue 8), sent to a live server: each answers a 4xx problem
or succeeds, valid requests of another account are never harmed, and the log holds no traceback."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.server import running_server


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def _probe(url: str, token: str, other: str) -> list[tuple[str, int]]:
    auth, theirs = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {other}"}
    answers: list[tuple[str, int]] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def send(
            label: str, method: str, path: str, headers: dict[str, str] = auth, **kw: object
        ) -> httpx.Response:
            response = await client.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]
            answers.append((label, response.status_code))
            return response

        # Another account, sending valid requests while the probes run: every one must be accepted.
        their_agent = (await send("agent", "POST", "/api/v1/agents", headers=theirs, json={"name": "t"})).json()
        their_hook = (
            await send("webhook", "POST", "/api/v1/webhooks", headers=theirs, json={"url": "http://127.0.0.1:9/t"})
        ).json()
        messages = [{"role": "user", "content": "hi"}]
        theirs_body = {"agentId": their_agent["id"], "webhookId": their_hook["id"], "reference": "t",
                       "messages": messages, "delay": {"seconds": 3600}}  # fmt: skip

        async def probes() -> None:
            always_awake = {"start": "00:00", "end": "00:00"}
            for up_to in (10**20, 10**14, 7 * 86400 + 1, -1, 0):
                bands = [{"upToSeconds": up_to, "probability": 1}]
                await send(
                    "huge band",
                    "POST",
                    "/api/v1/agents",
                    json={"name": "x", "activeHours": always_awake, "responseTimes": bands},
                )
            agent = (
                await send("agent", "POST", "/api/v1/agents", json={"name": "a", "activeHours": always_awake})
            ).json()
            hook = (await send("webhook", "POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h"})).json()
            context = (await send("context", "POST", "/api/v1/contexts", json={"name": "c", "content": "x"})).json()
            for field in ("enabled", "description", "url"):
                await send("null patch", "PATCH", f"/api/v1/webhooks/{hook['id']}", json={field: None})
            for field in ("name", "content"):
                await send("null patch", "PATCH", f"/api/v1/contexts/{context['id']}", json={field: None})
            for cursor in (_cursor(f"seq:{2**63}"), _cursor("seq:" + "9" * 60), "!!", _cursor("seq:01")):
                for resource in ("agents", "webhooks", "contexts", "message-requests"):
                    await send("cursor", "GET", f"/api/v1/{resource}", params={"cursor": cursor})
            for limit in ("99999999999999999999999", "-1", "1e3", "NaN"):
                await send("limit", "GET", "/api/v1/agents", params={"limit": limit})
            base = {
                "agentId": agent["id"],
                "webhookId": hook["id"],
                "reference": "r",
                "messages": [{"role": "user", "content": "hi"}],
            }
            for delay in ({"seconds": 10**20}, {"seconds": 30 * 86400 + 1}, {"seconds": -5}, "later"):
                await send("delay", "POST", "/api/v1/message-requests", json=base | {"delay": delay})
            created_at = [{"role": "user", "content": "hi", "createdAt": 10**20}]
            await send("createdAt", "POST", "/api/v1/message-requests", json=base | {"messages": created_at})
            for zone in ("localtime", "Factory", "posixrules", "../../etc/passwd"):
                await send("zone", "POST", "/api/v1/agents", json={"name": "z", "timezone": zone})
            await send(
                "bom",
                "POST",
                "/api/v1/agents",
                content=b"\xef\xbb\xbf" + b'{"name": "b"}',
                headers=auth | {"Content-Type": "application/json"},
            )
            await send("null url", "POST", "/api/v1/webhooks", json={"url": None})
            await send("405", "PUT", "/api/v1/agents")
            await send("header", "GET", "/api/v1/agents", headers=auth | {"X-Long": "x" * 20_000})

        async def valid() -> list[httpx.Response]:
            sent = []
            for _ in range(50):
                sent.append(await send("valid", "POST", "/api/v1/message-requests", headers=theirs, json=theirs_body))
                await asyncio.sleep(0)
            return sent

        _, results = await asyncio.gather(probes(), valid())
        assert [r.status_code for r in results] == [202] * 50
    return answers


def test_every_probe_class_answers_without_a_500_or_a_traceback(tmp_path: Path):
    config = tmp_path / "novaro.toml"
    config.write_text("[webhooks]\nallow_private_networks = true\n")
    with running_server(["--config", str(config)], cwd=tmp_path) as server:
        assert server.first_token is not None
        create = ["token", "create", "--name", "b", "--account", "other", "--config", str(config)]
        second = subprocess.run(
            [sys.executable, "-m", "novaro_lite", *create], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout.strip()
        answers = asyncio.run(_probe(server.url, server.first_token, second))
        log = "".join(server.output)
    assert [answer for answer in answers if answer[1] >= 500] == []
    succeeding = {"agent", "webhook", "context", "bom", "valid"}
    assert [(label, status) for label, status in answers if label not in succeeding and not 400 <= status < 500] == []
    refused = {label for label, status in answers if 400 <= status < 500}
    assert {
        "huge band",
        "null patch",
        "cursor",
        "limit",
        "delay",
        "createdAt",
        "zone",
        "null url",
        "405",
        "header",
    } <= refused
    assert ("bom", 201) in answers
    assert "Traceback" not in log, log[-4000:]
