"""A reader that pins SQLite's WAL keeps purged content there; the server says so, and erases it once the
reader lets go (README: what delays erasure)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import Attempt
from novaro_lite.storage.sqlite import database as sqlite_database
from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio
MARKER = "content-that-a-reader-keeps-in-the-wal"
WINDOW = 0.6  # the promised window, shortened for the test


def holding(data_dir: Path) -> list[str]:
    return sorted(path.name for path in data_dir.iterdir() if MARKER.encode() in path.read_bytes())


async def until(check: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def being_delivered(storage: Storage) -> str:
    """A request holding MARKER, due and claimed by "own": its delivery's end purges the content."""
    hook = await storage.webhooks.create("acme", "https://a.example/hook", "", True)
    request_id: str = await storage.requests.create(
        "acme", agent_id="agt_1", webhook_id=hook.id, reference="r", messages=[ChatMessage("user", MARKER)],
        context_ids=(), plan=Plan(time.time() - 1, time.time() - 1), accepted=lambda request: request.id,
    )  # fmt: skip
    await storage.queue.claim(
        now=time.time(), lease_seconds=60, limit=1, per_webhook=1, in_flight={}, working=(), owner="own"
    )
    return request_id


async def test_a_reader_pinning_the_wal_is_reported_and_content_goes_once_it_lets_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(sqlite_database, "ERASE_WINDOW", WINDOW)
    path = tmp_path / "novaro.db"
    async with Storage.open(path, time.time, erase_seconds=0.1) as storage:
        request_id = await being_delivered(storage)
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as shell:
            shell.execute("BEGIN")
            shell.execute("SELECT count(*) FROM message_requests").fetchone()  # holds a snapshot, as a shell can
            with caplog.at_level(logging.WARNING):
                attempt = Attempt(int(time.time()), 200, 5, None, "ok")
                assert await storage.queue.finish_attempt(request_id, "own", attempt, "delivered")
                await until(lambda: storage.database.erasure_overdue() > 0, WINDOW + 3)
            assert "wal" in holding(tmp_path)[-1]  # the WAL still holds it: SQLite cannot erase it under a reader
            (warning,) = [r.getMessage() for r in caplog.records if "still in the WAL" in r.getMessage()]
            assert "another connection holds a read transaction" in warning
            shell.execute("COMMIT")
        await until(lambda: storage.database.erasure_overdue() == 0 and not holding(tmp_path), 3)
        assert any("erased from the WAL after" in r.getMessage() for r in caplog.records)


async def test_a_wal_busy_for_a_moment_is_erased_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    # Another worker's read often blocks a checkpoint for a moment; the retry erases the content well inside the
    # window, and the operator hears nothing (only content that waited half its window is worth a warning).
    monkeypatch.setattr(sqlite_database, "ERASE_WINDOW", 60.0)
    path = tmp_path / "novaro.db"
    async with Storage.open(path, time.time, erase_seconds=0.1) as storage:
        request_id = await being_delivered(storage)
        with caplog.at_level(logging.WARNING):
            with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as shell:
                shell.execute("BEGIN")
                shell.execute("SELECT count(*) FROM message_requests").fetchone()
                attempt = Attempt(int(time.time()), 200, 5, None, "ok")
                assert await storage.queue.finish_attempt(request_id, "own", attempt, "delivered")
                await asyncio.sleep(0.6)  # checkpoints tried every 0.1 s meanwhile, each blocked by the reader
                assert "wal" in holding(tmp_path)[-1]
                shell.execute("COMMIT")
            await until(lambda: not holding(tmp_path), 5)
        assert not [r for r in caplog.records if "WAL" in r.getMessage()]
