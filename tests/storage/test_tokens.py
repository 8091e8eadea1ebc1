"""Token storage on both engines: the first-start token is created once, however many processes start."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio


async def test_first_token_is_created_once_by_processes_starting_together(tmp_path: Path, database_url: str):
    target = database_url or tmp_path / "novaro.db"
    # Two servers starting at once on an empty database, each with its own connections.
    async with Storage.open(target, time.time) as first, Storage.open(target, time.time) as second:
        created = await asyncio.gather(
            *(storage.tokens.create_first("first-start", "default") for storage in (first, second))
        )
        assert sum(secret is not None for secret in created) == 1, created
        assert len(await first.tokens.list()) == 1
        assert await second.tokens.create_first("first-start", "default") is None
