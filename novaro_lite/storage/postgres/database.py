"""The PostgreSQL engine: a pool of asyncpg connections, migrations under an advisory lock, and wake-ups.

asyncpg over psycopg 3: measured on our own workloads (bench/pg_driver.py, docs/benchmarks.md). The stores'
SQL uses `?` placeholders; they become `$1, $2, …` here, once per statement text, and every such statement is
a prepared statement on its connection (asyncpg caches them). A group-commit batch is the exception: one call
to novaro_run, which plans each of its statements (batches.py). No transaction is held open longer than one
use case: the delivery queue's content is set NULL when a request ends, and autovacuum reclaims the
dead rows (docs/operating.md says what to tune).

Several processes share one database. Writers that read before they write lock what they read
(Transaction.lock: a transaction-scoped advisory lock), claims are serialised by one advisory lock so that
per-webhook limits hold across processes (claims.py), and a process that accepts a request due soon wakes
the others with NOTIFY (wakeups.py); each process's periodic sweep is the backstop.

Due times and leases are written and compared in each server's own clock, so the servers' clocks must
agree: a server whose clock is more than MAX_CLOCK_SKEW off the database server's refuses to start (and
`novaro-lite db check` shows the difference), rather than take over another server's in-flight work early.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg

from novaro_lite.errors import StorageFullError, UnavailableError, ValidationError
from novaro_lite.storage.database import Claim, Row, Statement, Transaction, redact
from novaro_lite.storage.group_commit import Batch, GroupCommit
from novaro_lite.storage.outage import Outage
from novaro_lite.storage.postgres.batches import RUN_SQL, Shipment
from novaro_lite.storage.postgres.claims import CLAIM_SQL, claim_args
from novaro_lite.storage.postgres.faults import cause_of, is_broken
from novaro_lite.storage.postgres.schema import MIGRATIONS
from novaro_lite.storage.postgres.settings import COMMAND_TIMEOUT, CONNECT_TIMEOUT, SERVER_SETTINGS
from novaro_lite.storage.postgres.wakeups import Wakeups

logger = logging.getLogger(__name__)
MIGRATION_LOCK = 0x6E6F7661726F  # "novaro": the advisory lock migrations run under
# Errors of opening a connection: the server's absence or refusal, or a URL asyncpg cannot read.
CONNECT_ERRORS = (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresError, ValueError)
MAX_CLOCK_SKEW = 1.0  # seconds between a server's clock and the database's; leases are 1 s at the very least
# How long /readyz fails after a write found PostgreSQL's disk full, unless a write that stored something
# commits sooner. PostgreSQL cannot say how much room is left, and the readiness probe's own write stores
# nothing (it commits on a full disk too): only a write that needed room tells, so the last one is trusted
# for this long; then the server is offered traffic again, and the next write tells anew.
FULL_DISK_HOLD_SECONDS = 30.0


@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """The statement with its `?` placeholders numbered as PostgreSQL wants them ($1, $2, …)."""
    count = iter(range(1, 1_000_000))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


def rowcount(status: str) -> int:
    """How many rows a command changed, from its status ("UPDATE 3", "INSERT 0 1", "SELECT 2")."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


def _refused_text(exc: asyncpg.DataError) -> ValidationError:
    """Text PostgreSQL cannot store (NUL, U+0000, in a value the API did not see first: an imported card's, a
    generated agent's) is the request's fault, as it is at the API's edge."""
    return ValidationError(f"A text value may not contain the NUL character (U+0000): {exc}")


@contextlib.contextmanager
def _text_checked() -> Iterator[None]:
    try:
        yield
    # A bound parameter with NUL is the first; JSON's \u0000 (a batch's inserts, batches.py) the second.
    except (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError) as exc:
        raise _refused_text(exc) from None


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Give a connection back to the pool as it is, without asyncpg's reset query.

    By default the pool sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release:
    a round trip more per checkout, which doubled the transactions PostgreSQL ran per request (3,000 requests
    accepted and delivered: 66,667 with it, 32,789 without). It undoes session state this engine never leaves
    on a pooled connection: advisory locks are transaction-scoped but the migration's, released before its
    connection goes back; wake-ups listen on a connection of their own; nothing is SET or left open as a
    cursor. asyncpg still rolls back a transaction left open (a cancelled caller) before it calls this.
    """


class _Connection(asyncpg.Connection):  # type: ignore[misc]
    async def close(self, *, timeout: float | None = None) -> None:
        """Close, or only drop, a connection whose server is gone (asyncpg has dropped it by then).

        The pool closes each connection `expire_connections` retired in a task nobody awaits; a close that
        failed there (BrokenPipeError: PostgreSQL stopped) was logged as an unretrieved task's traceback.
        """
        try:
            await super().close(timeout=timeout)
        except Exception as exc:
            if not is_broken(exc):
                raise


class _Transaction:
    row_lock = " FOR UPDATE"

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with _text_checked():
            return rowcount(await self._connection.execute(numbered(sql), *params))

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        with _text_checked():
            rows: list[Row] = await self._connection.fetch(numbered(sql), *params)
        return rows

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with _text_checked():
                await self._connection.executemany(numbered(sql), rows)

    async def lock(self, key: str) -> None:
        await self._connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)


class PostgresDatabase:
    row_lock = _Transaction.row_lock
    ascii_lower = 'lower({} COLLATE "C")'

    def __init__(self, pool: asyncpg.Pool, clock: Callable[[], float], wakeups: Wakeups) -> None:
        self._pool = pool
        self.clock = clock
        self.wakeups = wakeups
        self._group = GroupCommit(self._commit, self.content_purged)
        self._outage = Outage()
        self._full_at: float | None = None  # when a write last found the disk full (time.monotonic)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, url: str, clock: Callable[[], float], *, pool_size: int = 10
    ) -> AsyncIterator[PostgresDatabase]:
        """Connect a pool to `url`, migrate the schema (once, whoever else starts now) and listen for wake-ups."""
        try:
            pool = await asyncpg.create_pool(
                url,
                # No floor: asyncpg would keep reconnecting to it while PostgreSQL is away, logging a traceback
                # each time; connections are opened as requests need them (and closed after 5 idle minutes).
                min_size=0,
                max_size=pool_size,
                server_settings=SERVER_SETTINGS,
                command_timeout=COMMAND_TIMEOUT,
                timeout=CONNECT_TIMEOUT,
                reset=_keep_session,
                connection_class=_Connection,
            )
        except CONNECT_ERRORS as exc:
            raise _unreachable(exc) from None
        try:
            try:  # the first connection: with no floor, the pool has not tried the server yet
                async with pool.acquire() as connection:
                    check_clock_skew(await clock_skew(connection))
            except CONNECT_ERRORS as exc:
                raise _unreachable(exc) from None
            await migrate(pool)
            async with Wakeups.listening(url) as wakeups:
                yield cls(pool, clock, wakeups)
        finally:
            await pool.close()

    def now(self) -> int:
        return int(self.clock())

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection. An error that means PostgreSQL is away or busy becomes UnavailableError (logged
        once per cause, by Outage); a connection such an error may have left broken is closed, and every other
        idle one with it (they went with the server), never handed to the next caller."""
        try:
            async with self._pool.acquire() as connection:
                try:
                    yield connection
                except BaseException as exc:
                    if is_broken(exc):
                        connection.terminate()
                        await self._pool.expire_connections()
                    raise
        except Exception as exc:
            if (found := cause_of(exc)) is not None:
                error, cause = found
                if isinstance(error, StorageFullError):
                    self._full_at = time.monotonic()
                raise self._outage.failed(error, cause) from exc
            raise
        self._outage.answered()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._connection() as connection, connection.transaction():
            yield _Transaction(connection)

    async def _commit(self, batch: Batch) -> list[list[int]]:
        """The batch in one round trip and one transaction (batches.py): each write's row counts."""
        shipment = Shipment.of(batch)
        async with self._connection() as connection:
            with _text_checked():
                counts: list[int] = await connection.fetchval(RUN_SQL, *shipment.args())
        return shipment.counts(counts)

    async def insert(self, sql: str, params: tuple[Any, ...]) -> None:
        await self._group.insert(sql, params)
        self._full_at = None  # a row was stored: there is room again

    async def write(self, *statements: Statement, purges: bool = False) -> list[int]:
        counts = await self._group.write(*statements, purges=purges)
        if any(counts):
            self._full_at = None
        return counts

    async def one(self, sql: str, params: tuple[Any, ...]) -> Row | None:
        async with self._connection() as connection:
            with _text_checked():
                row: Row | None = await connection.fetchrow(numbered(sql), *params)
        return row

    async def read(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        async with self._connection() as connection:
            with _text_checked():
                rows: list[Row] = await connection.fetch(numbered(sql), *params)
        return rows

    async def all(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        return await self.read(sql, params)

    async def claim(self, claim: Claim) -> list[Row]:
        """Lease in one call to novaro_claim, which takes the claim lock first (claims.py); it answers whole rows."""
        async with self._connection() as connection:
            rows: list[Row] = await connection.fetch(CLAIM_SQL, *claim_args(claim))
        return rows

    def content_purged(self) -> None:
        """Nothing to schedule: the purging UPDATE left dead row versions that (auto)vacuum removes."""

    def erasure_overdue(self) -> float:
        """Always 0: no file of ours holds purged content; PostgreSQL's own WAL and vacuum are its operator's."""
        return 0.0

    async def checkpoint(self) -> bool:
        """Nothing to do: VACUUM, which autovacuum runs, is what frees purged content's old row versions."""
        return True

    def notify_due(self, when: float) -> None:
        """Tell every process on this database that work is due at `when` (a unix time)."""
        self.wakeups.announce(self._notify, when)

    async def _notify(self, channel: str, payload: str) -> None:
        async with self._connection() as connection:
            await connection.execute("SELECT pg_notify($1, $2)", channel, payload)

    def on_due(self, wake: Callable[[float], None]) -> None:
        """Call `wake(when)` whenever any process announces work due at `when`."""
        self.wakeups.wake = wake

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        try:
            await self.one("SELECT 1", ())
        except asyncpg.PostgresError as exc:  # not a known outage (those are UnavailableError already)
            raise UnavailableError(f"the database is unusable: {redact(str(exc))}") from exc

    async def check_writable(self) -> None:
        """Raise UnavailableError unless a write transaction commits and no write found the disk full lately
        (FULL_DISK_HOLD_SECONDS): the probe's write stores nothing, so it commits on a full disk too."""
        try:
            await self.write(("DELETE FROM tokens WHERE FALSE", ()))
        except asyncpg.PostgresError as exc:
            raise UnavailableError(f"the database does not take writes: {redact(str(exc))}") from exc
        if self._full_at is not None and time.monotonic() - self._full_at < FULL_DISK_HOLD_SECONDS:
            raise StorageFullError("A write found PostgreSQL's disk full, and none has stored anything since.")


async def clock_skew(connection: asyncpg.Connection, wall_clock: Callable[[], float] = time.time) -> float:
    """How far this machine's clock is ahead of the database server's, in seconds (negative: behind).

    Measured against the middle of the round trip, so the error is at most half of it."""
    before = wall_clock()
    database = float(await connection.fetchval("SELECT extract(epoch FROM clock_timestamp())"))
    after = wall_clock()
    return (before + after) / 2 - database


def check_clock_skew(skew: float) -> None:
    """Refuse a clock further than MAX_CLOCK_SKEW from the database's: every server's due times and leases
    are compared with every other's, so a server ahead would take over another's in-flight work early."""
    if abs(skew) > MAX_CLOCK_SKEW:
        raise UnavailableError(
            f"this machine's clock is {skew:+.2f} s off the PostgreSQL server's (at most {MAX_CLOCK_SKEW:g} s is"
            " allowed: every server compares due times and leases with the others'); synchronise the clocks"
            " (NTP: chrony or systemd-timesyncd) and start again"
        )


def _unreachable(exc: BaseException) -> UnavailableError:
    # The URL may hold a password: never echo it.
    return UnavailableError(f"cannot connect to PostgreSQL: {type(exc).__name__}: {redact(str(exc))}")


@contextlib.asynccontextmanager
async def _own_connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, outside any pool (for `db check`); unreachable: UnavailableError."""
    try:
        connection = await asyncpg.connect(url, server_settings=SERVER_SETTINGS)
    except CONNECT_ERRORS as exc:
        raise _unreachable(exc) from None
    try:
        yield connection
    finally:
        await connection.close()


async def read_clock_skew(url: str) -> float:
    """`clock_skew` on a connection of its own (for `db check`)."""
    async with _own_connection(url) as connection:
        return await clock_skew(connection)


async def read_schema_version(url: str) -> int:
    """The schema version of the database at `url`, without changing anything (0: never migrated)."""
    async with _own_connection(url) as connection:
        if not await connection.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
            return 0
        return int(await connection.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))


async def schema_version(connection: asyncpg.Connection) -> int:
    await connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
    version = await connection.fetchval("SELECT max(version) FROM schema_version")
    return int(version or 0)


async def migrate(pool: asyncpg.Pool) -> int:
    """Bring the schema up to this version under an advisory lock; return how many migrations ran.

    A process that starts while another migrates waits for the lock, then finds nothing left to do. A database
    newer than this version (a newer server migrated it) is refused rather than used with the wrong schema.
    """
    async with pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            version = await schema_version(connection)
            if version > len(MIGRATIONS):
                raise UnavailableError(
                    f"the database's schema is version {version}, newer than this novaro-lite knows"
                    f" ({len(MIGRATIONS)}): run the newer version, or restore a backup"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                async with connection.transaction():
                    await connection.execute(script)
                    await connection.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
                logger.info("migrated the PostgreSQL schema to version %d", number)
            return len(MIGRATIONS) - version
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
