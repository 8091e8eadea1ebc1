"""Storage: one object holding the database and a store per resource, opened once per process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from novaro_lite.storage.agents import AgentStore
from novaro_lite.storage.contexts import ContextStore
from novaro_lite.storage.conversations import ConversationStore
from novaro_lite.storage.database import ERASE_SECONDS, Database
from novaro_lite.storage.queue import DeliveryQueue
from novaro_lite.storage.requests import RequestStore
from novaro_lite.storage.tokens import TokenStore
from novaro_lite.storage.webhooks import WebhookStore


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
        path: Path,
        clock: Callable[[], float],
        *,
        synchronous: str = "normal",
        erase_seconds: float = ERASE_SECONDS,
    ) -> AsyncIterator[Storage]:
        async with Database.open(path, clock, synchronous=synchronous, erase_seconds=erase_seconds) as database:
            yield cls(database)

    def now(self) -> int:
        return self.database.now()
