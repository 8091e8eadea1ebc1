from __future__ import annotations

import asyncio
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from novaro_lite.domain.tokens import hash_token
from novaro_lite.storage.sqlite.database import SqliteDatabase
from novaro_lite.storage.sqlite.schema import MIGRATIONS
from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio


async def test_storage_creates_private_file_in_wal_mode_at_the_latest_schema(tmp_path: Path):
    path = tmp_path / "new" / "novaro.db"
    async with Storage.open(path, time.time) as storage:
        assert (await storage.database.all("PRAGMA user_version", ()))[0][0] == len(MIGRATIONS)
        await storage.tokens.create("t", "acme", None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_storage_keeps_only_the_hash_of_a_token(tmp_path: Path):
    path = tmp_path / "novaro.db"
    async with Storage.open(path, time.time) as storage:
        created, secret = await storage.tokens.create("t", "acme", None)
        assert secret.startswith("nl_") and len(secret) >= 3 + 43
        assert (await storage.tokens.find(hash_token(secret))) == created
        files = [path, path.with_name("novaro.db-wal")]
        assert not any(secret.encode() in file.read_bytes() for file in files)
        assert any(hash_token(secret).encode() in file.read_bytes() for file in files)


@pytest.mark.parametrize(("synchronous", "level"), [("normal", 1), ("full", 2)])
async def test_storage_sync_level_follows_the_setting(tmp_path: Path, synchronous: str, level: int):
    async with Storage.open(tmp_path / "novaro.db", time.time, synchronous=synchronous) as storage:
        async with storage.database.transaction() as tx:  # the setting is the writer connection's
            assert (await tx.fetch("PRAGMA synchronous"))[0][0] == level


async def test_writes_queued_when_the_flusher_is_cancelled_are_dropped_not_committed_later(tmp_path: Path):
    async with Storage.open(tmp_path / "novaro.db", time.time) as storage:
        database = storage.database
        assert isinstance(database, SqliteDatabase)
        await database.write(("CREATE TABLE t (n INTEGER)", ()))
        async with database._write_lock:  # the flusher waits for the lock with a, b queued behind it
            first = asyncio.create_task(database.insert("INSERT INTO t (n) VALUES (?)", (1,)))
            await asyncio.sleep(0)
            second = asyncio.create_task(database.insert("INSERT INTO t (n) VALUES (?)", (2,)))
            await asyncio.sleep(0)
            assert database._group._flusher is not None
            database._group._flusher.cancel()
            await asyncio.sleep(0)
        for told in (first, second):
            with pytest.raises(asyncio.CancelledError):
                await told
        await database.insert("INSERT INTO t (n) VALUES (?)", (3,))  # a later write is answered
        rows = await database.all("SELECT n FROM t ORDER BY n", ())
        assert [row[0] for row in rows] == [3]  # nothing its caller was told was cancelled got in


async def test_a_write_waits_for_another_process_lock_and_goes_ahead_once_it_is_free(tmp_path: Path):
    path = tmp_path / "novaro.db"
    async with Storage.open(path, time.time) as storage:
        other = sqlite3.connect(path, isolation_level=None)  # another process's writer, as far as SQLite knows
        other.execute("BEGIN IMMEDIATE")
        write = asyncio.create_task(storage.tokens.create("t", "acme", None))
        await asyncio.sleep(0.05)
        assert not write.done()  # waiting for the lock, not failed
        other.execute("COMMIT")
        other.close()
        created, _ = await write
        assert [token.id for token in await storage.tokens.list()] == [created.id]
