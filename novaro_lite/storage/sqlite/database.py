"""The SQLite engine: connections, transactions, migrations and erasure of purged content.

One aiosqlite connection per process for writes, WAL, foreign keys on, a busy timeout so the CLI and a
running server share the file, and writes serialised through `transaction()`. The hot writes (a group-commit
batch, a claim) run as one function on the writer's thread, BEGIN IMMEDIATE to COMMIT (`_in_one_trip`): the
file's write lock is then held for the SQL's time only, not across several turns of a busy event loop, which
kept a second process sharing the file (`serve --workers`) asleep in SQLite's busy handler, and a statement
costs no trip of its own (docs/benchmarks.md). List queries (`all()`) use a second aiosqlite connection, so
they see committed data only: the writer's connection would also show the rows of a transaction (or
group-commit batch) that has not committed yet and may still roll back.

Point lookups by key (the token on every request, the agent) run on a second, plain sqlite3 connection
on the event loop's own thread: in WAL mode a reader never waits for a writer, and an indexed lookup
takes microseconds, while a trip to aiosqlite's thread waits for the GIL behind a busy event loop
(measured: the hop capped realtime throughput near 400 requests/s; see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from novaro_lite.errors import StorageFullError, UnavailableError
from novaro_lite.storage.database import Claim, Row, Statement, Transaction
from novaro_lite.storage.group_commit import Batch, GroupCommit
from novaro_lite.storage.outage import Outage
from novaro_lite.storage.sqlite.claims import claim_statement
from novaro_lite.storage.sqlite.faults import READY_ROOM_BYTES, cause_of, room_bytes
from novaro_lite.storage.sqlite.schema import MIGRATIONS

logger = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5000
CHECKPOINT_BUSY_MS = 50
ERASE_SECONDS = 3.0  # how soon after content is purged a checkpoint erases its old copies from the WAL
# How soon a checkpoint that found the WAL in use is tried again. With `serve --workers` under load, another
# worker's reads and writes keep it in use much of the time: a retry a whole erase_seconds later left three
# tries of 50 ms in the 10 s promise (measured at load 15-20: two in a row blocked, content erased after 6-9 s).
BLOCKED_RETRY_SECONDS = 0.5
ERASE_WINDOW = 10.0  # the promise (README): no content outlives its request by more than this in any file
T = TypeVar("T")


def _create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


@contextlib.contextmanager
def _opening(path: Path) -> Iterator[None]:
    """Opening the file failed (no permission, a directory in its place, not a database): one clear sentence
    rather than a traceback from `serve` or any command."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        raise UnavailableError(f"Cannot open the SQLite database at {path}: {exc}.") from None


def read_schema_version(path: Path) -> int:
    """The schema version of the SQLite file at `path`, without changing anything (0: no file yet)."""
    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise UnavailableError(f"cannot read the SQLite database at {path}: {exc}") from None
    return version


def backup(source: Path, destination: Path) -> None:
    """Copy the live database at `source` into a new file at `destination`, consistent as of one moment.

    One step of SQLite's backup API under one read transaction: writers go on meanwhile (WAL), and none of
    them can make it start over, as they do a backup taken in small steps. The read lasts as long as the
    copy (well under a second for a database of tens of MB, docs/benchmarks.md), short of the erase window.
    """
    if destination.exists():
        raise FileExistsError(f"{destination} already exists; name a new file")
    _create_private_file(destination)  # it holds pending requests' content: readable by its owner only
    try:
        with (
            contextlib.closing(sqlite3.connect(source, isolation_level=None)) as live,
            contextlib.closing(sqlite3.connect(destination, isolation_level=None)) as copy,
        ):
            live.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            live.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        destination.unlink(missing_ok=True)
        raise UnavailableError(f"cannot back up the SQLite database at {source}: {exc}") from None
    except BaseException:
        destination.unlink(missing_ok=True)
        raise


def _atomically(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` in one write transaction on `connection` (on its own thread), rolled back if it fails."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
        connection.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already (a full disk)
            connection.execute("ROLLBACK")
        raise
    return result


def _run_batch(batch: Batch, connection: sqlite3.Connection) -> list[list[int]]:
    for sql, rows in batch.inserts.items():
        connection.executemany(sql, rows)
    return [[connection.execute(sql, params).rowcount for sql, params in statements] for statements in batch.writes]


async def _on_thread(connection: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` with `connection`'s sqlite3 connection on its thread, in one trip there and back.

    aiosqlite offers no public call for this: its own methods (execute, executemany, commit) are each one
    `_execute` of a function, the call used here; a closed connection raises ValueError as they do.
    """
    result: T = await connection._execute(lambda: work(connection._conn))  # type: ignore[no-untyped-call]
    return result


class _Transaction:
    """A write transaction on the writer connection."""

    row_lock = ""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return (await self._connection.execute(sql, params)).rowcount

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        return list(await self._connection.execute_fetchall(sql, params))

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        await self._connection.executemany(sql, rows)

    async def lock(self, key: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already keeps every other writer out until this one ends."""


class SqliteDatabase:
    row_lock = _Transaction.row_lock
    ascii_lower = "lower({})"

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: sqlite3.Connection,
        clock: Callable[[], float],
        lister: aiosqlite.Connection | None = None,
        erase_seconds: float = ERASE_SECONDS,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._lister = lister or writer
        self._path = path
        self.clock = clock
        self._write_lock = asyncio.Lock()
        self._group = GroupCommit(self._commit, self.content_purged)
        self._outage = Outage()
        self._erase_seconds = erase_seconds
        self._unerased_since: float | None = None  # monotonic time of the oldest purge not yet checkpointed
        self._oldest_unerased: float | None = None  # the same, not moved on by a checkpoint a reader blocked
        self._blocked_warned = False
        self._purges = 0  # purges noted so far
        self._eraser: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        path: Path,
        clock: Callable[[], float],
        *,
        synchronous: str = "normal",
        erase_seconds: float = ERASE_SECONDS,
    ) -> AsyncIterator[SqliteDatabase]:
        """Open (creating and migrating if needed) the database at `path`.

        In WAL mode, synchronous "normal" keeps every committed transaction through a process crash
        (kill -9 included); "full" also through a power cut, with an fsync per commit (docs/benchmarks.md).
        """
        with _opening(path):
            _create_private_file(path)
            writer = await aiosqlite.connect(path, isolation_level=None)
        lister: aiosqlite.Connection | None = None
        reader: sqlite3.Connection | None = None
        try:
            with _opening(path):
                reader = sqlite3.connect(path, isolation_level=None)
                writer.row_factory = reader.row_factory = sqlite3.Row
                await writer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                await writer.execute("PRAGMA journal_mode = WAL")
                await writer.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'full' else 'NORMAL'}")
                await writer.execute("PRAGMA foreign_keys = ON")
                # Purged chat content is overwritten, not just unlinked (docs/design.md, Erasure: no chat history).
                await writer.execute("PRAGMA secure_delete = ON")
                reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                lister = await aiosqlite.connect(path, isolation_level=None)
                lister.row_factory = sqlite3.Row
                await lister.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                await lister.execute("PRAGMA query_only = ON")
                database = cls(path, writer, reader, clock, lister, erase_seconds)
                await database._migrate()
                # After a crash the WAL may still hold content purged before it: erase it before serving.
                await database.checkpoint()
            try:
                yield database
            finally:
                if database._eraser is not None:
                    database._eraser.cancel()
                if database._unerased_since is not None:  # e.g. a CLI command while a server holds the file
                    with contextlib.suppress(sqlite3.Error, ValueError):  # already closed: nothing to erase
                        await database.checkpoint()
        finally:
            if reader is not None:
                reader.close()
            if lister is not None:
                await lister.close()
            await writer.close()

    async def close(self) -> None:
        """Close the connections now; open() also closes them on exit, and closing twice is harmless."""
        if self._eraser is not None:
            self._eraser.cancel()
        self._reader.close()
        await self._lister.close()
        await self._writer.close()

    def now(self) -> int:
        return int(self.clock())

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Run one use case's writes atomically; writers in this process queue on a lock, other processes on
        SQLite's (BEGIN IMMEDIATE), so a transaction excludes every other writer."""
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                yield _Transaction(self._writer)
                await self._writer.execute("COMMIT")
            except BaseException as exc:
                # A cancelled await does not stop aiosqlite's thread: the statement still runs. Its queue is
                # FIFO, so a ROLLBACK queued now runs after it and leaves the connection clean for the next use.
                with contextlib.suppress(sqlite3.Error, ValueError):  # BEGIN failed, or closed: nothing to undo
                    await asyncio.shield(self._writer.execute("ROLLBACK"))
                self._raise_if_unavailable(exc)
                raise
        self._outage.answered()

    async def _in_one_trip(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` as one write transaction in a single trip to the writer's thread (see the module's doc).

        A cancelled caller does not stop the thread: `work` still commits or rolls back there, by itself, before
        the writer's next use (its queue is FIFO), so the connection is left clean either way.
        """
        async with self._write_lock:
            try:
                result = await _on_thread(self._writer, functools.partial(_atomically, work=work))
            except BaseException as exc:
                self._raise_if_unavailable(exc)
                raise
        self._outage.answered()
        return result

    async def _commit(self, batch: Batch) -> list[list[int]]:
        return await self._in_one_trip(functools.partial(_run_batch, batch))

    def _raise_if_unavailable(self, exc: BaseException) -> None:
        """Raise the UnavailableError that `exc` means (busy, full, closed), if it means one."""
        if (found := cause_of(exc)) is not None:
            error, cause = found
            raise self._outage.failed(error, cause) from exc

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, ValueError) as exc:
            self._raise_if_unavailable(exc)
            raise

    async def insert(self, sql: str, params: tuple[Any, ...]) -> None:
        await self._group.insert(sql, params)

    async def write(self, *statements: Statement, purges: bool = False) -> list[int]:
        return await self._group.write(*statements, purges=purges)

    async def claim(self, claim: Claim) -> list[Row]:
        sql, params = claim_statement(claim)
        rows: list[Row] = await self._in_one_trip(lambda connection: connection.execute(sql, params).fetchall())
        return rows

    async def _migrate(self) -> None:
        async with self.transaction() as tx:
            version = (await tx.fetch("PRAGMA user_version"))[0][0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    await tx.execute(statement)
                await tx.execute(f"PRAGMA user_version = {number}")

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and empty it, so purged content leaves no old copies behind.

        Return False if a reader (another process) kept it from completing; it can be tried again.
        """
        async with self._write_lock:
            # A reader in another process (a shell, a backup) can hold the WAL: give up at once rather than
            # hold every write for the busy timeout; the eraser tries again later.
            await self._writer.execute(f"PRAGMA busy_timeout = {CHECKPOINT_BUSY_MS}")
            try:
                rows = await self._writer.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)", ())
            finally:
                await self._writer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return not list(rows)[0][0]

    def notify_due(self, when: float) -> None:
        """Nothing to send: SQLite has no notifications. The process that accepted the work wakes itself, and
        other processes sharing the file (`serve --workers`) find it on their sweep."""

    def on_due(self, wake: Callable[[float], None]) -> None:
        """Nothing to hear (see notify_due)."""

    def content_purged(self) -> None:
        """Note that a committed write purged content: a checkpoint follows within `erase_seconds`.

        secure_delete zeroes the content in the database pages, but the WAL still holds the page images
        written before; one TRUNCATE checkpoint per burst of purges empties it (docs/design.md, Erasure).
        """
        self._purges += 1
        if self._unerased_since is None:
            self._unerased_since = time.monotonic()
        if self._oldest_unerased is None:
            self._oldest_unerased = self._unerased_since
        if self._eraser is None or self._eraser.done():
            self._eraser = asyncio.create_task(self._erase(), name="erase purged content")

    async def _erase(self) -> None:
        wait = self._erase_seconds
        while self._unerased_since is not None:
            await asyncio.sleep(max(0.0, self._unerased_since + wait - time.monotonic()))
            covered = self._purges  # every purge noted so far was committed before this checkpoint starts
            try:
                erased = await self.checkpoint()
            except (sqlite3.Error, ValueError):  # closed or broken: the open/close checkpoint takes over
                logger.warning("erasing purged content from the WAL failed; it is retried", exc_info=True)
                erased = False
            if erased:
                self._erased(covered)
            else:
                self._reader_blocked()
            if erased and self._purges == covered:
                self._unerased_since = None
            else:  # purges were noted meanwhile (their own window), or the WAL was in use (again in a moment)
                self._unerased_since = time.monotonic()
                wait = self._erase_seconds if erased else min(self._erase_seconds, BLOCKED_RETRY_SECONDS)

    def _reader_blocked(self) -> None:
        """A checkpoint could not empty the WAL: once content has waited half its window, say so once, naming the
        cause (the README lists what delays erasure), while erasure_overdue() tells the metrics how far past the
        window content now is. A briefly busy WAL (another worker's read, retried within a second) is not news."""
        if not self._blocked_warned and self._unerased_seconds() >= ERASE_WINDOW / 2:
            self._blocked_warned = True
            logger.warning(
                "purged chat content is still in the WAL (novaro.db-wal): another connection holds a read"
                " transaction on the database (an open sqlite3 shell, a copy or backup tool, a long query, or"
                " another worker of this server, busy); it is erased once that reader finishes; metric"
                " novaro_erasure_overdue_seconds shows how long content has outlived its %g s window",
                ERASE_WINDOW,
            )

    def _erased(self, covered: int) -> None:
        if self._blocked_warned:
            logger.warning(
                "purged content erased from the WAL after %.0f s, once the reader let go", self._unerased_seconds()
            )
        self._blocked_warned = False
        if self._purges == covered:
            self._oldest_unerased = None
        else:  # purged while this checkpoint ran: the oldest not yet erased is no older than now
            self._oldest_unerased = time.monotonic()

    def _unerased_seconds(self) -> float:
        """How long the oldest purged content still in a file has waited for erasure (0 when none waits)."""
        return 0.0 if self._oldest_unerased is None else time.monotonic() - self._oldest_unerased

    def erasure_overdue(self) -> float:
        """Seconds the oldest purged content still in a file has outlived ERASE_WINDOW (0 when none has)."""
        return max(0.0, self._unerased_seconds() - ERASE_WINDOW)

    async def ping(self) -> None:
        """Raise UnavailableError unless the database answers a trivial query."""
        await self.all("SELECT count(*) FROM sqlite_master", ())

    async def check_writable(self) -> None:
        """Raise UnavailableError unless a write transaction commits (through the group commit, like any write)
        and there is room for more: that write changes nothing, so it commits on a full disk too."""
        await self.write(("DELETE FROM tokens WHERE 0", ()))
        async with self._write_lock:
            with self._reading():
                room = await room_bytes(self._writer, self._path)
        if room < READY_ROOM_BYTES:
            raise StorageFullError(
                f"The database has room for {room} more bytes, less than the {READY_ROOM_BYTES} it keeps for writes:"
                " the disk that holds it is (nearly) full."
            )

    async def read(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        """A small indexed read, on the loop-thread reader (no trip to another thread)."""
        with self._reading():
            rows: list[Row] = self._reader.execute(sql, params).fetchall()
        return rows

    async def one(self, sql: str, params: tuple[Any, ...]) -> Row | None:
        """A point lookup, on the loop-thread reader: only for indexed queries that return one row."""
        with self._reading():
            row: Row | None = self._reader.execute(sql, params).fetchone()
        return row

    async def all(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        """A list query on the lister connection: committed data only, off the event loop's thread."""
        # One trip to aiosqlite's thread; execute + fetch + close as separate awaits would be three.
        with self._reading():
            return list(await self._lister.execute_fetchall(sql, params))
