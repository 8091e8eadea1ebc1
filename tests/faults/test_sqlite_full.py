"""A full disk under SQLite, made without mounts: `PRAGMA max_page_count` on the server's own writer connection
(the limit belongs to the connection that sets it) keeps the database from growing, as a full disk would."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any, cast

import httpx
import pytest

from novaro_lite.config.settings import Settings
from novaro_lite.services import Services
from novaro_lite.storage.sqlite.database import SqliteDatabase
from tests.conftest import loopback_settings
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(tmp_path) -> Settings:
    return loopback_settings(tmp_path)


async def set_max_pages(services: Services, pages: int | None) -> None:
    """Let the database grow to `pages` pages at most (None: as large as it is now)."""
    writer = cast(SqliteDatabase, services.storage.database)._writer
    if pages is None:
        pages = list(await writer.execute_fetchall("PRAGMA page_count", ()))[0][0]
    await writer.execute(f"PRAGMA max_page_count = {pages}")


async def request_body(client: httpx.AsyncClient, auth: dict[str, str], hook: str) -> dict[str, Any]:
    agent = await client.post("/api/v1/agents", json={"name": "Lena", "timezone": "UTC"}, headers=auth)
    webhook = await client.post("/api/v1/webhooks", json={"url": hook}, headers=auth)
    assert agent.status_code == 201 and webhook.status_code == 201, (agent.text, webhook.text)
    return {
        "agentId": agent.json()["id"],
        "webhookId": webhook.json()["id"],
        "reference": "full",
        "messages": [{"role": "user", "content": "x" * 2000}],
    }


async def test_sqlite_full_disk_answers_507_keeps_reading_and_recovers(client, services, auth, receiver, settings):
    body = await request_body(client, auth, receiver[0])
    await set_max_pages(services, None)
    accepted: list[str] = []
    for _ in range(5000):
        response = await client.post("/api/v1/message-requests", json=body, headers=auth)
        if response.status_code != 202:
            break
        accepted.append(response.json()["id"])
    problem = assert_problem(response, 507, "full")
    assert problem["type"] == "/problems/storage-full"
    assert "retry-after" not in response.headers

    ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] == "unavailable"
    assert (await client.get(f"/api/v1/agents/{body['agentId']}", headers=auth)).status_code == 200
    assert (await client.get("/api/v1/message-requests", headers=auth)).status_code == 200

    await set_max_pages(services, 1_000_000)  # the operator freed space: no restart
    assert (await client.get("/readyz")).status_code == 200
    response = await client.post("/api/v1/message-requests", json=body, headers=auth)
    assert response.status_code == 202, response.text
    accepted.append(response.json()["id"])
    for request_id in accepted:  # nothing accepted was lost
        assert (await client.get(f"/api/v1/message-requests/{request_id}", headers=auth)).status_code == 200
    with contextlib.closing(sqlite3.connect(settings.database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


async def test_sqlite_locked_by_another_writer_answers_503_with_retry_after(client, auth, receiver, settings):
    body = await request_body(client, auth, receiver[0])
    with contextlib.closing(sqlite3.connect(settings.database, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the busy timeout
        response = await client.post("/api/v1/message-requests", json=body, headers=auth)
        assert_problem(response, 503, "busy")
        assert response.headers["retry-after"] == "1"
        assert response.json()["type"] == "/problems/database-unavailable"
        other.execute("ROLLBACK")
    assert (await client.post("/api/v1/message-requests", json=body, headers=auth)).status_code == 202
