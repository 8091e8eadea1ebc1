"""Webhook storage: rotations that race each other."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio


async def test_concurrent_rotations_both_sign(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        hook = await storage.webhooks.create("acme", "https://a.example/hook", "", True)
        first, second = await asyncio.gather(
            storage.webhooks.rotate_secret("acme", hook.id), storage.webhooks.rotate_secret("acme", hook.id)
        )
        signing = (await storage.webhooks.get("acme", hook.id)).signing_secrets(int(time.time()))
        assert {first.secret, second.secret} == set(signing)  # each caller's new secret signs
