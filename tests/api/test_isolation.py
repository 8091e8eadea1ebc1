"""One account's failing request never costs another account its own: each caller hears about its own row."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from novaro_lite.config.settings import Settings
from tests.conftest import loopback_settings
from tests.fakes.engines import execute_directly

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return loopback_settings(tmp_path, database_url=database_url)


async def _account(client, services, name: str) -> tuple[dict[str, str], dict[str, str]]:
    _, token = await services.storage.tokens.create(name, name, None)
    auth = {"Authorization": f"Bearer {token}"}
    agent = (await client.post("/api/v1/agents", json={"name": name}, headers=auth)).json()
    hook = (await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=auth)).json()
    messages = [{"role": "user", "content": "hi"}]
    body = {"agentId": agent["id"], "webhookId": hook["id"], "reference": name, "messages": messages}
    return auth, body


async def test_a_row_the_database_refuses_fails_only_its_own_caller(client, services, settings, monkeypatch):
    good_auth, good = await _account(client, services, "good")
    bad_auth, bad = await _account(client, services, "bad")
    if not settings.database_url:  # the database refuses every row of one account
        refuse = [
            "CREATE TRIGGER refuse BEFORE INSERT ON message_requests WHEN NEW.account = 'bad'"
            " BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
        ]
    else:
        refuse = [
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " RAISE EXCEPTION 'refused by a test trigger'; END $$",
            "CREATE TRIGGER refuse BEFORE INSERT ON message_requests FOR EACH ROW WHEN (NEW.account = 'bad')"
            " EXECUTE FUNCTION refuse()",
        ]
    await execute_directly(settings, *refuse)
    group, alone = services.storage.database._group, []
    commit_one = group._commit_one

    async def counted(write):  # so the test knows batches did fail and were split, not merely never grouped
        alone.append(write)
        return await commit_one(write)

    monkeypatch.setattr(group, "_commit_one", counted)
    senders = [(bad, bad_auth) if n % 10 == 0 else (good, good_auth) for n in range(100)]
    answers = await asyncio.gather(
        *(client.post("/api/v1/message-requests", json=body, headers=auth) for body, auth in senders)
    )
    accepted = [answer.json()["id"] for answer in answers if answer.status_code == 202]
    assert [answer.status_code for answer in answers[::10]] == [500] * 10
    assert len(accepted) == 90
    assert len(alone) > 10  # at least one batch mixed refused and valid rows
    stored = await client.get("/api/v1/message-requests", params={"limit": 200}, headers=good_auth)
    assert sorted(r["id"] for r in stored.json()["data"]) == sorted(accepted)
