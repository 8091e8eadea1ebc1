"""Storage: one object holding the database and a store per resource, opened once per process.

`Storage.open` picks the engine from where the data lives: a `postgresql://` URL opens PostgreSQL
(storage/postgres/), a path opens the SQLite file there (storage/sqlite/).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from novaro_lite.storage.agents import AgentStore
from novaro_lite.storage.avatars import AvatarStore
from novaro_lite.storage.check_in_rules import CheckInRuleStore
from novaro_lite.storage.check_ins import CheckInStore
from novaro_lite.storage.contexts import ContextStore
from novaro_lite.storage.conversations import ConversationStore
from novaro_lite.storage.database import Database, redact
from novaro_lite.storage.groups import GroupStore
from novaro_lite.storage.queue import DeliveryQueue
from novaro_lite.storage.requests import RequestStore
from novaro_lite.storage.sqlite.database import (
    ERASE_SECONDS,
    SqliteDatabase,
    backup as backup_sqlite,
    read_schema_version as read_sqlite_version,
)
from novaro_lite.storage.sqlite.schema import MIGRATIONS as SQLITE_MIGRATIONS
from novaro_lite.storage.tokens import TokenStore
from novaro_lite.storage.webhooks import WebhookStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: Path | str) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def describe(target: Path | str) -> str:
    """Where the data lives, fit to print: the engine, and the file or the URL without its password."""
    return f"PostgreSQL {redact(str(target))}" if is_postgres(target) else f"SQLite {target}"


async def schema_versions(target: Path | str) -> tuple[int, int]:
    """The schema version the database at `target` is at, and the one this version of novaro-lite migrates to.

    Reads only: nothing is created or migrated (a database that does not exist yet is at version 0).
    """
    if is_postgres(target):
        from novaro_lite.storage.postgres.database import read_schema_version
        from novaro_lite.storage.postgres.schema import MIGRATIONS as POSTGRES

        return await read_schema_version(str(target)), len(POSTGRES)
    return read_sqlite_version(Path(target)), len(SQLITE_MIGRATIONS)


def backup(target: Path | str, destination: Path) -> None:
    """Copy the SQLite database at `target` to the new file `destination` while servers keep running.

    PostgreSQL has its own tools (pg_dump); the caller says so rather than calling this.
    """
    assert not is_postgres(target)
    backup_sqlite(Path(target), destination)


async def check_clock(target: Path | str) -> float | None:
    """How far this machine's clock is ahead of the PostgreSQL server's (None on SQLite: one machine, one clock).

    Raises UnavailableError, as a starting server does, past MAX_CLOCK_SKEW (storage/postgres/database.py)."""
    if not is_postgres(target):
        return None
    from novaro_lite.storage.postgres.database import check_clock_skew, read_clock_skew

    skew = await read_clock_skew(str(target))
    check_clock_skew(skew)
    return skew


class Storage:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.tokens = TokenStore(database)
        self.agents = AgentStore(database)
        self.avatars = AvatarStore(database)
        self.contexts = ContextStore(database)
        self.webhooks = WebhookStore(database)
        self.requests = RequestStore(database)
        self.queue = DeliveryQueue(database)
        self.conversations = ConversationStore(database)
        self.check_ins = CheckInStore(database)
        self.check_in_rules = CheckInRuleStore(database)
        self.groups = GroupStore(database)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        target: Path | str,
        clock: Callable[[], float],
        *,
        synchronous: str = "normal",
        erase_seconds: float = ERASE_SECONDS,
        pool_size: int = 10,
    ) -> AsyncIterator[Storage]:
        """Open the database at `target` (a PostgreSQL URL, or the SQLite file's path), migrated to this version."""
        database: contextlib.AbstractAsyncContextManager[Database]
        if is_postgres(target):
            from novaro_lite.storage.postgres.database import PostgresDatabase  # its driver loads only when used

            database = PostgresDatabase.open(str(target), clock, pool_size=pool_size)
        else:
            database = SqliteDatabase.open(Path(target), clock, synchronous=synchronous, erase_seconds=erase_seconds)
        async with database as opened:
            yield cls(opened)

    def now(self) -> int:
        return self.database.now()
