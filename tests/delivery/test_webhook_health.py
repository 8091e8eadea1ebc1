"""Webhook health: last success, consecutive failures, and the automatic disable after only failures."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from novaro_lite.config.settings import DeliverySettings, SchedulerSettings, Settings, WebhookSettings
from novaro_lite.delivery.dispatcher import Dispatcher
from tests.fakes.world import account_world
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def health_settings(tmp_path: Path, hours: int) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True, disable_after_hours=hours),
        delivery=DeliverySettings(retry_schedule=(5, 5, 5, 5), retry_jitter=0),
    )


@pytest.fixture
async def setup(tmp_path: Path, receiver, request) -> AsyncIterator[dict[str, Any]]:
    clock = Clock()
    settings = health_settings(tmp_path, getattr(request, "param", 1))
    async with account_world(settings, receiver[0], clock=clock) as world:
        yield world | {"clock": clock, "receiver": receiver[1], "dispatcher": Dispatcher(world["services"])}


async def accept(setup: dict[str, Any]) -> httpx.Response:
    body = {"agentId": setup["agent"]["id"], "webhookId": setup["hook"]["id"], "reference": "r",
            "messages": [{"role": "user", "content": "hi"}], "delay": "immediate"}  # fmt: skip
    response: httpx.Response = await setup["client"].post("/api/v1/message-requests", json=body, headers=setup["auth"])
    return response


async def deliver(setup: dict[str, Any], *answers: int) -> None:
    setup["receiver"].script[:] = list(answers)
    await setup["dispatcher"].run_due()
    await setup["dispatcher"].wait_idle()


async def webhook(setup: dict[str, Any]) -> dict[str, Any]:
    response = await setup["client"].get(f"/api/v1/webhooks/{setup['hook']['id']}", headers=setup["auth"])
    found: dict[str, Any] = response.json()
    return found


async def test_a_new_webhook_is_healthy_and_a_success_is_recorded(setup):
    fresh = await webhook(setup)
    assert (fresh["lastSuccessAt"], fresh["failingSince"], fresh["consecutiveFailures"]) == (None, None, 0)
    assert (await accept(setup)).status_code == 202
    await deliver(setup, 200)
    assert (await webhook(setup))["lastSuccessAt"] == int(setup["clock"].now)


async def test_failures_count_until_a_success_clears_them(setup):
    await accept(setup)
    started = int(setup["clock"].now)
    await deliver(setup, 500)
    setup["clock"].now += 10
    await deliver(setup, 503)
    failing = await webhook(setup)
    assert failing["failingSince"] == started and failing["consecutiveFailures"] == 2 and failing["enabled"]
    setup["clock"].now += 10
    await deliver(setup, 204)
    healthy = await webhook(setup)
    assert (healthy["failingSince"], healthy["consecutiveFailures"]) == (None, 0)
    assert healthy["lastSuccessAt"] == int(setup["clock"].now)


async def test_only_failures_for_disable_after_hours_disable_it_with_the_reason_and_pause_its_requests(setup):
    first = (await accept(setup)).json()
    await deliver(setup, 500)
    setup["clock"].now += 1800
    await deliver(setup, 500)
    assert (await webhook(setup))["enabled"]  # half an hour of failures: not yet
    setup["clock"].now += 1800
    await deliver(setup, 500)
    disabled = await webhook(setup)
    assert not disabled["enabled"] and disabled["consecutiveFailures"] == 3
    assert "every delivery failed for 1 h" in disabled["disabledReason"] and "HTTP 500" in disabled["disabledReason"]
    assert disabled["pausedCount"] == 1  # the request is kept, with its content, not failed
    paused = await setup["client"].get(f"/api/v1/message-requests/{first['id']}", headers=setup["auth"])
    assert paused.json()["status"] == "paused"
    assert_problem(await accept(setup), 409, "every delivery failed for 1 h")
    enabled = await setup["client"].patch(
        f"/api/v1/webhooks/{setup['hook']['id']}", json={"enabled": True}, headers=setup["auth"]
    )
    body = enabled.json()
    assert body["enabled"] and body["disabledReason"] is None
    assert (body["failingSince"], body["consecutiveFailures"]) == (None, 0)  # a fresh start
    await deliver(setup, 200)
    delivered = await setup["client"].get(f"/api/v1/message-requests/{first['id']}", headers=setup["auth"])
    assert delivered.json()["status"] == "delivered" and (await webhook(setup))["pausedCount"] == 0


@pytest.mark.parametrize("setup", [0], indirect=True)
async def test_disable_after_hours_zero_never_disables(setup):
    await accept(setup)
    await deliver(setup, 500)
    setup["clock"].now += 10 * 86400
    await deliver(setup, 500)
    assert (await webhook(setup))["enabled"]


def test_disable_after_hours_is_bounded():
    with pytest.raises(Exception, match="disable_after_hours"):
        dataclasses.replace(WebhookSettings(), disable_after_hours=-1)
