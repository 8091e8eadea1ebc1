"""The database's read paths: lists see committed data only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from novaro_lite.storage.paging import Listing
from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio


async def test_lists_see_committed_rows_only(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        database = storage.database
        with pytest.raises(RuntimeError):
            async with database.transaction() as db:
                await db.execute(
                    "INSERT INTO contexts (id, account, name, content, created_at, updated_at)"
                    " VALUES ('ctx_1', 'acme', 'n', 'c', 0, 0)"
                )
                # Inside the open transaction, a list (another request's) must not show the row yet.
                assert (await storage.contexts.list("acme", Listing(10))).items == []
                raise RuntimeError("roll back")
        assert (await storage.contexts.list("acme", Listing(10))).items == []
        await storage.contexts.create("acme", "n", "c")
        assert len((await storage.contexts.list("acme", Listing(10))).items) == 1
