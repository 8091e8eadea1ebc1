"""One account's failing request never costs another account its own: each caller hears about its own row."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from novaro_lite.config import Settings
from tests.conftest import loopback_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return loopback_settings(tmp_path)


async def _account(client, services, name: str) -> tuple[dict[str, str], dict[str, str]]:
    _, token = await services.storage.tokens.create(name, name, None)
    auth = {"Authorization": f"Bearer {token}"}
    agent = (await client.post("/api/v1/agents", json={"name": name}, headers=auth)).json()
    hook = (await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=auth)).json()
    messages = [{"role": "user", "content": "hi"}]
    body = {"agentId": agent["id"], "webhookId": hook["id"], "reference": name, "messages": messages}
    return auth, body


async def test_a_row_the_database_refuses_fails_only_its_own_caller(client, services, settings, caplog):
    good_auth, good = await _account(client, services, "good")
    bad_auth, bad = await _account(client, services, "bad")
    with sqlite3.connect(settings.database_path) as db:  # the database refuses every row of one account
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON message_requests WHEN NEW.account = 'bad'"
            " BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
        )
    senders = [(bad, bad_auth) if n % 10 == 0 else (good, good_auth) for n in range(100)]
    answers = await asyncio.gather(
        *(client.post("/api/v1/message-requests", json=body, headers=auth) for body, auth in senders)
    )
    accepted = [answer.json()["id"] for answer in answers if answer.status_code == 202]
    assert [answer.status_code for answer in answers[::10]] == [500] * 10
    assert len(accepted) == 90
    stored = await client.get("/api/v1/message-requests", params={"limit": 200}, headers=good_auth)
    assert sorted(r["id"] for r in stored.json()["data"]) == sorted(accepted)
