"""Fixtures of the in-process delivery tests (the Dispatcher and conversations): an injected clock, settings
on both engines, and an account with an agent, a webhook and a receiver. A module may define its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from novaro_lite.config.settings import DeliverySettings, SchedulerSettings, Settings, WebhookSettings
from novaro_lite.delivery.dispatcher import Dispatcher
from tests.fakes.clock import MIDDAY, Clock
from tests.fakes.world import account_world


@pytest.fixture
def clock() -> Clock:
    """Starts at a fixed midday, so no test depends on the hour it runs at."""
    return Clock(MIDDAY)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Every test of the delivery pipeline and of conversations runs on both engines."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True),
        delivery=DeliverySettings(retry_schedule=(5, 300), retry_jitter=0),
    )


@pytest.fixture
async def setup(settings, clock, receiver) -> AsyncIterator[dict[str, Any]]:
    async with account_world(settings, receiver[0], clock=clock) as world:
        yield world | {"receiver": receiver[1], "dispatcher": Dispatcher(world["services"])}
