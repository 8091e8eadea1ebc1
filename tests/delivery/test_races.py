"""Races between a delivery in flight and its webhook changing: no request is left pending forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from novaro_lite.delivery.dispatcher import Dispatcher
from novaro_lite.delivery.scheduler import housekeeping
from tests.conftest import loopback_settings
from tests.fakes.receiver import Answer, Receiver
from tests.fakes.serve import serve_in_thread
from tests.fakes.world import account_world

pytestmark = pytest.mark.anyio
TEXT = "content that must not outlive its request"


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[dict[str, Any]]:
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as url:
        async with account_world(loopback_settings(tmp_path, database_url=database_url), f"{url}/hook") as world:
            body = {"agentId": world["agent"]["id"], "webhookId": world["hook"]["id"], "reference": "r",
                    "messages": [{"role": "user", "content": TEXT}], "delay": "immediate"}  # fmt: skip
            accepted = await world["client"].post("/api/v1/message-requests", json=body, headers=world["auth"])
            yield world | {"id": accepted.json()["id"], "receiver": receiver}


async def stored(api: dict[str, Any]) -> Any:
    return await api["services"].storage.requests.get("acme", api["id"])


async def test_deleting_a_webhook_while_its_delivery_fails_ends_the_request(api):
    api["receiver"].answer(Answer(500, sleep=0.5))  # a failing receiver, slow enough to delete meanwhile
    dispatcher = Dispatcher(api["services"])
    await dispatcher.run_due()
    await asyncio.sleep(0.2)
    assert (await api["client"].delete(f"/api/v1/webhooks/{api['hook']['id']}", headers=api["auth"])).status_code == 204
    await dispatcher.wait_idle()
    request = await stored(api)  # once: back to scheduled, for a webhook no claim could ever take again
    assert request.status == "failed" and request.messages is None and request.reply is None


async def test_housekeeping_ends_a_request_whose_webhook_is_gone(api):
    database = api["services"].storage.database
    await database.write(("DELETE FROM webhooks", ()))  # as if deleted between the accept's check and insert
    assert (await stored(api)).status == "scheduled"
    await housekeeping(api["services"])
    request = await stored(api)
    assert request.status == "failed" and request.messages is None


async def test_a_pause_recorded_after_the_webhook_was_enabled_again_is_undone(api):
    queue, services = api["services"].storage.queue, api["services"]
    (claimed,) = await queue.claim(
        now=services.clock(), lease_seconds=300, limit=1, per_webhook=8, in_flight={}, working=(), owner="own_x"
    )
    # The delivery found the webhook disabled; before it records the pause, the owner enables it again.
    await queue.finish_attempt(claimed.id, "own_x", None, "paused", counter=None)
    assert (await stored(api)).status == "scheduled"  # not parked under an enabled webhook until paused_max_days
