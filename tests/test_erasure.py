"""Content leaves every file (novaro.db, -wal, -shm) within seconds of its request ending, crash or not."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from novaro_lite.app import create_app
from novaro_lite.config import Settings
from novaro_lite.delivery import Dispatcher
from novaro_lite.storage.store import Storage
from tests.conftest import loopback_settings

pytestmark = pytest.mark.anyio
MARKER = "a-sentence-that-must-not-outlive-its-request"
ERASE_SECONDS = 0.3


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return loopback_settings(tmp_path, erase_seconds=ERASE_SECONDS)


@pytest.fixture
async def api(settings, receiver) -> AsyncIterator[dict[str, Any]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services = app.state.services
        _, token = await services.storage.tokens.create("t", "acme", None)
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            agent = (await client.post("/api/v1/agents", json={"name": "Ada"}, headers=auth)).json()
            hook = (await client.post("/api/v1/webhooks", json={"url": receiver[0]}, headers=auth)).json()
            body = {"agentId": agent["id"], "webhookId": hook["id"], "reference": "r",
                    "messages": [{"role": "user", "content": MARKER}]}  # fmt: skip
            yield {"client": client, "auth": auth, "body": body, "services": services}


def holding(data_dir: Path, text: str) -> list[str]:
    """The database files whose bytes contain `text`."""
    return sorted(path.name for path in data_dir.iterdir() if text.encode() in path.read_bytes())


async def wait_until_erased(data_dir: Path, text: str, within: float) -> float:
    began = time.monotonic()
    while holding(data_dir, text) and time.monotonic() - began < within:
        await asyncio.sleep(0.05)
    assert holding(data_dir, text) == []
    return time.monotonic() - began


async def accept(api: dict[str, Any], **extra: Any) -> str:
    response = await api["client"].post("/api/v1/message-requests", json=api["body"] | extra, headers=api["auth"])
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def test_delivered_content_leaves_every_file_within_the_erase_window(api, settings):
    await accept(api, delay="immediate")
    assert holding(settings.data_dir, MARKER) == ["novaro.db-wal"]  # stored while pending, as it must be
    dispatcher = Dispatcher(api["services"])
    await dispatcher.run_due()
    await dispatcher.wait_idle()
    took = await wait_until_erased(settings.data_dir, MARKER, within=5)
    assert took < ERASE_SECONDS + 2


async def test_canceled_content_leaves_every_file_within_the_erase_window(api, settings):
    request_id = await accept(api, delay={"seconds": 3600})
    canceled = await api["client"].delete(f"/api/v1/message-requests/{request_id}", headers=api["auth"])
    assert canceled.json()["status"] == "canceled"
    await wait_until_erased(settings.data_dir, MARKER, within=5)


async def test_a_burst_of_ended_requests_shares_one_checkpoint(api, settings, monkeypatch):
    database = api["services"].storage.database
    checkpoints = 0
    real = database.checkpoint

    async def counted() -> bool:
        nonlocal checkpoints
        checkpoints += 1
        erased: bool = await real()
        return erased

    monkeypatch.setattr(database, "checkpoint", counted)
    ids = [await accept(api, delay={"seconds": 3600}) for _ in range(20)]
    for request_id in ids:
        await api["client"].delete(f"/api/v1/message-requests/{request_id}", headers=api["auth"])
    await wait_until_erased(settings.data_dir, MARKER, within=5)
    assert checkpoints == 1


CRASH = """
import asyncio, os, sys, time
from pathlib import Path
from novaro_lite.storage.store import Storage
from tests.conftest import loopback_settings

async def main():
    async with Storage.open(Path(sys.argv[1]), time.time, erase_seconds=5) as storage:
        db = storage.database
        await db.write(("CREATE TABLE notes (text TEXT)", ()))
        await db.insert("INSERT INTO notes (text) VALUES (?)", (sys.argv[2],))
        await db.write(("UPDATE notes SET text = NULL", ()))
        db.content_purged()
        os._exit(0)  # a crash: no checkpoint, no close; the WAL keeps the purged text

asyncio.run(main())
"""


async def test_content_purged_before_a_crash_is_erased_when_the_database_opens(tmp_path: Path):
    path = tmp_path / "data" / "novaro.db"
    subprocess.run([sys.executable, "-c", CRASH, str(path), MARKER], check=True, timeout=60)
    assert holding(path.parent, MARKER) == ["novaro.db-wal"]
    async with Storage.open(path, time.time):
        assert holding(path.parent, MARKER) == []
