"""Storage: one object holding the database and a store per resource, opened once per process.

`Storage.open` picks the engine from where the data lives: a `postgresql://` URL opens PostgreSQL
(storage/postgres/), a path opens the SQLite file there (storage/sqlite/).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from novaro_lite.storage.agents import AgentStore
from novaro_lite.storage.contexts import ContextStore
from novaro_lite.storage.conversations import ConversationStore
from novaro_lite.storage.database import Database
from novaro_lite.storage.queue import DeliveryQueue
from novaro_lite.storage.requests import RequestStore
from novaro_lite.storage.sqlite.database import ERASE_SECONDS, SqliteDatabase
from novaro_lite.storage.tokens import TokenStore
from novaro_lite.storage.webhooks import WebhookStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: Path | str) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


class Storage:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.tokens = TokenStore(database)
        self.agents = AgentStore(database)
        self.contexts = ContextStore(database)
        self.webhooks = WebhookStore(database)
        self.requests = RequestStore(database)
        self.queue = DeliveryQueue(database)
        self.conversations = ConversationStore(database)

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
