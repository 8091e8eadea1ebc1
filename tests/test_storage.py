from __future__ import annotations

import asyncio
import gc
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from novaro_lite.domain.agents import AgentFields
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


async def test_storage_reopens_without_migrating_again(tmp_path: Path):
    path = tmp_path / "novaro.db"
    async with Storage.open(path, time.time) as storage:
        agent = await storage.agents.create("acme", AgentFields(name="Kept"))
    async with Storage.open(path, time.time) as storage:
        assert (await storage.agents.get("acme", agent.id)).name == "Kept"


async def test_storage_keeps_only_the_hash_of_a_token(tmp_path: Path):
    path = tmp_path / "novaro.db"
    async with Storage.open(path, time.time) as storage:
        created, secret = await storage.tokens.create("t", "acme", None)
        assert secret.startswith("nl_") and len(secret) >= 3 + 43
        assert (await storage.tokens.find(hash_token(secret))) == created
        files = [path, path.with_name("novaro.db-wal")]
        assert not any(secret.encode() in file.read_bytes() for file in files)
        assert any(hash_token(secret).encode() in file.read_bytes() for file in files)


async def test_two_connections_share_the_file_while_one_writes(tmp_path: Path):
    path = tmp_path / "novaro.db"
    async with Storage.open(path, time.time) as server, Storage.open(path, time.time) as cli:
        created, secret = await cli.tokens.create("from-cli", "acme", None)
        assert await server.tokens.find(hash_token(secret)) == created
        await cli.tokens.revoke(created.id)
        found = await server.tokens.find(hash_token(secret))
        assert found is not None and found.revoked_at is not None


async def test_group_commit_writes_concurrent_rows_and_reports_rowcounts(tmp_path: Path):
    async with Storage.open(tmp_path / "novaro.db", time.time) as storage:
        database = storage.database
        await database.write(("CREATE TABLE t (n INTEGER)", ()))
        await asyncio.gather(*(database.insert("INSERT INTO t (n) VALUES (?)", (n,)) for n in range(100)))
        counts = await asyncio.gather(
            *(database.write(("UPDATE t SET n = n + 1000 WHERE n = ?", (n,))) for n in (1, 2, -1))
        )
        assert counts == [[1], [1], [0]]
        rows = await database.all("SELECT count(*), min(n) FROM t", ())
        assert (rows[0][0], rows[0][1]) == (100, 0)


async def test_group_commit_failure_fails_only_the_writer_whose_row_is_refused(tmp_path: Path):
    async with Storage.open(tmp_path / "novaro.db", time.time) as storage:
        database = storage.database
        await database.write(("CREATE TABLE t (n INTEGER UNIQUE)", ()))
        results = await asyncio.gather(
            *(database.insert("INSERT INTO t (n) VALUES (?)", (n,)) for n in range(50)),
            database.insert("INSERT INTO t (n) VALUES (?)", (10**20,)),  # too large for SQLite: OverflowError
            database.insert("INSERT INTO t (n) VALUES (?)", (7,)),  # a duplicate of a row in the same batch
            database.write(("UPDATE t SET n = n + 1000 WHERE n = ?", (3,))),
            return_exceptions=True,
        )
        assert results[:50] == [None] * 50
        assert isinstance(results[50], OverflowError) and isinstance(results[51], sqlite3.IntegrityError)
        assert results[52] == [1]
        rows = await database.all("SELECT count(*), max(n) FROM t", ())
        assert (rows[0][0], rows[0][1]) == (50, 1003)


async def test_a_cancelled_writer_whose_row_fails_leaves_no_unretrieved_exception(tmp_path: Path):
    async with Storage.open(tmp_path / "novaro.db", time.time) as storage:
        database = storage.database
        await database.write(("CREATE TABLE t (n INTEGER)", ()))
        loop = asyncio.get_running_loop()
        unhandled: list[dict[str, object]] = []
        loop.set_exception_handler(lambda _, context: unhandled.append(context))
        try:
            caller = asyncio.create_task(database.insert("INSERT INTO t (n) VALUES (?)", (10**20,)))
            await asyncio.sleep(0)
            caller.cancel()
            with pytest.raises(asyncio.CancelledError):
                await caller
            await database.insert("INSERT INTO t (n) VALUES (?)", (1,))  # the batch after it
            gc.collect()
        finally:
            loop.set_exception_handler(None)
        assert unhandled == []


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
