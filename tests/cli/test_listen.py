"""`novaro-lite listen`: prints deliveries, checks signatures with our own code, answers 200 (401 if forged)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from click.testing import CliRunner
from standardwebhooks.webhooks import Webhook as Signer

from novaro_lite.cli.listen import describe, receiver_app
from novaro_lite.cli.main import main
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.webhooks import new_secret

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0


def delivery(secret: str, request_id: str, messages: list[dict[str, object]]) -> tuple[bytes, dict[str, str]]:
    """A delivery signed by the reference library, not by our own signer."""
    body = json.dumps({"messages": messages, "reference": "chat-1", "secret": "x", "id": request_id,
                       "agentId": "agt_1"}).encode()  # fmt: skip
    timestamp = int(NOW)
    signature = Signer(secret).sign(request_id, datetime.fromtimestamp(timestamp, UTC), body.decode())
    return body, {"webhook-id": request_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


async def post(app, body: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://listen") as client:
        return await client.post("/any/path", content=body, headers=headers)


async def test_listen_verifies_a_signed_delivery_and_prints_it():
    secret, lines = new_secret(), list[str]()
    request_id = new_id("req", NOW - 2.5)
    body, headers = delivery(secret, request_id, [{"role": "assistant", "createdAt": int(NOW), "content": "Hallo!"}])
    response = await post(receiver_app(secret, lines.append, clock=lambda: NOW), body, headers)
    assert response.status_code == 200 and response.json() == {"received": True}
    text = "\n".join(lines)
    assert "POST /any/path" in text and "signature verified" in text and request_id in text
    assert "reference 'chat-1'" in text and "2.5 s after the request" in text and "assistant: Hallo!" in text


async def test_listen_refuses_a_wrong_signature_with_401_and_says_why():
    lines: list[str] = []
    body, headers = delivery(new_secret(), new_id("req", NOW), [])
    response = await post(receiver_app(new_secret(), lines.append, clock=lambda: NOW), body, headers)
    assert response.status_code == 401 and "no signature matches" in lines[0]
    stale = await post(receiver_app(new_secret(), lines.append, clock=lambda: NOW + 3600), body, headers)
    assert stale.status_code == 401 and "off this machine's clock" in "\n".join(lines[2:])
    missing = await post(receiver_app(new_secret(), lines.append, clock=lambda: NOW), body, {})
    assert missing.status_code == 401 and "header is missing" in "\n".join(lines)


async def test_listen_without_a_secret_accepts_and_says_it_did_not_check():
    lines: list[str] = []
    body, headers = delivery(new_secret(), new_id("req", NOW), [])
    response = await post(receiver_app(None, lines.append, clock=lambda: NOW), body, headers)
    assert response.status_code == 200 and "not checked" in lines[0] and "a test ping" in lines[-1]


def test_listen_describes_bodies_that_are_not_deliveries():
    assert "not JSON" in describe(b"<html>", NOW)[0]
    assert "not an object" in describe(b"[1]", NOW)[0]
    assert "request ?" in describe(b'{"messages": [{"role": "assistant", "content": "x"}]}', NOW)[0]


def test_listen_refuses_a_secret_that_is_not_one():
    result = CliRunner().invoke(main, ["listen", "--secret", "hunter2"])
    assert result.exit_code == 2 and "whsec_" in result.output
