"""Check-ins through the API and the dispatcher, on both engines: scheduled in their window, written in character,
delivered as a signed `check_in`, erased when they end, and ended by the user's own message."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from novaro_lite.config.settings import Settings
from novaro_lite.domain.check_ins import QuietHours, is_quiet
from novaro_lite.domain.timing import is_awake
from tests.delivery.steps import accept, run
from tests.delivery.test_arrival import AWAKE, drive, world

pytestmark = pytest.mark.anyio
TOPIC = "ask how the exam went"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Retries long enough to run from an evening into the night."""
    return dataclasses.replace(
        settings, delivery=dataclasses.replace(settings.delivery, retry_schedule=(5, 300, 3600, 3600, 3600, 3600))
    )


def check_in_body(setup: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "agentId": setup["agent"]["id"],
        "webhookId": setup["hook"]["id"],
        "conversationId": "user-42",
        "topic": TOPIC,
        "window": {"after": 3600, "before": 3 * 86400},
        "timezone": "Europe/Paris",
        "quietHours": {"start": "22:00", "end": "08:00"},
        "messages": [{"role": "user", "content": "Exam tomorrow, wish me luck"}],
        "reference": "exam-followup",
    } | extra


async def schedule(setup: dict[str, Any], *, expect: int = 201, **extra: Any) -> dict[str, Any]:
    response = await setup["client"].post(
        "/api/v1/check-ins", json=check_in_body(setup, **extra), headers=setup["auth"]
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def shown(setup: dict[str, Any], check_in_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (
        await setup["client"].get(f"/api/v1/check-ins/{check_in_id}", headers=setup["auth"])
    ).json()
    return result


async def test_check_in_lands_at_an_allowed_moment_and_is_delivered_in_character(setup, clock):
    now = clock.now
    created = await schedule(setup)
    assert created["status"] == "scheduled" and created["id"].startswith("chk_")
    due = created["scheduledFor"]
    assert now + 3600 <= due <= now + 3 * 86400
    agent = await setup["services"].storage.agents.get("acme", setup["agent"]["id"])
    assert is_awake(agent, due) and not is_quiet(QuietHours("22:00", "08:00"), "Europe/Paris", due)
    for _ in range(4):  # at its moment, then when its bubbles are typed
        found = await shown(setup, created["id"])
        if found["status"] == "delivered":
            break
        clock.now = max(clock.now, found["scheduledFor"] + 1)
        await run(setup)
    assert found["status"] == "delivered" and found["topic"] is None  # erased with the history
    (delivery,) = setup["receiver"].deliveries
    assert delivery.json["type"] == "check_in" and delivery.json["conversationId"] == "user-42"
    assert delivery.json["id"] == created["id"] == delivery.headers["webhook-id"]
    assert delivery.headers["webhook-signature"].startswith("v1,")
    text = " ".join(message["content"] for message in delivery.json["messages"])
    assert "writing first" in text and TOPIC in text
    stored = await setup["services"].storage.check_ins.get("acme", created["id"])
    assert (stored.messages, stored.topic, stored.reply) == (None, None, None)


async def test_the_users_message_ends_a_waiting_check_in(setup, clock):
    first = await schedule(setup)
    await accept(setup, conversationId="user-42")
    ended = await shown(setup, first["id"])
    assert (ended["status"], ended["canceledReason"], ended["topic"]) == ("canceled", "user_wrote", None)
    # A realtime message in another conversation ends that one's check-in too.
    second = await schedule(setup, conversationId="user-43")
    response = await setup["client"].post(
        "/api/v1/messages",
        json={
            "agentId": setup["agent"]["id"],
            "conversationId": "user-43",
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers=setup["auth"],
    )
    assert response.status_code == 200
    assert (await shown(setup, second["id"]))["canceledReason"] == "user_wrote"
    await run(setup)
    assert [d.json["type"] for d in setup["receiver"].deliveries] == []  # nothing sent: the reply is not due yet


async def test_check_in_rules_and_windows_answer_with_reasons(setup, clock):
    # At noon in Paris: an hour from 23:00 would hold the one free minute of quiet hours ending 23:59.
    clock.now = datetime.datetime(2026, 5, 4, 12, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    first = await schedule(setup)
    refused = await schedule(setup, expect=409)
    assert "max_pending" in refused["detail"]
    canceled = await setup["client"].delete(f"/api/v1/check-ins/{first['id']}", headers=setup["auth"])
    assert (canceled.json()["status"], canceled.json()["canceledReason"]) == ("canceled", "canceled")
    # Only the user's quiet hours: a window inside them has no moment, and the 422 says why.
    night = await schedule(
        setup, expect=422, window={"after": 0, "before": 3600}, quietHours={"start": "00:00", "end": "23:59"}
    )
    assert "quiet hours" in night["errors"][0]["msg"] or "asleep" in night["errors"][0]["msg"]
    bad = await schedule(setup, expect=422, window={"after": 7200, "before": 3600})
    assert bad["errors"][0]["loc"] == ["body", "window"]
    listed = await setup["client"].get("/api/v1/check-ins?conversationId=user-42", headers=setup["auth"])
    assert [c["id"] for c in listed.json()["data"]] == [first["id"]]


async def test_a_check_in_is_typed_to_arrive_at_its_drawn_moment(setup, clock):
    ids = await world(setup, **AWAKE)
    for index in range(3):
        setup["receiver"].deliveries.clear()
        created = await schedule(
            setup,
            agentId=ids["agentId"],
            webhookId=ids["webhookId"],
            conversationId=f"c{index}",
            window={"after": 600, "before": 86400},
        )
        stamps: list[float] = []
        await drive(setup, clock, stamps)
        (typing, check_in) = setup["receiver"].deliveries  # no `message.read`: it answers no message
        assert (typing.json["type"], check_in.json["type"]) == ("agent.typing", "check_in")
        typed_at, arrived = stamps
        assert typed_at <= arrived and int(arrived) == typing.json["until"]
        assert (await shown(setup, created["id"]))["typingAt"] == int(typed_at)  # kept for its timeline
        # The drawn moment, unless the typing needs longer than the time left after writing (by at most that).
        assert 0 <= arrived - created["scheduledFor"] < 1 or arrived - created["scheduledFor"] <= arrived - typed_at
        assert not is_quiet(QuietHours("22:00", "08:00"), "Europe/Paris", arrived)


async def test_neither_a_check_in_nor_its_retries_land_in_the_users_quiet_hours(setup, clock):
    ids = await world(setup, **AWAKE)
    clock.now = datetime.datetime(2026, 5, 4, 21, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    setup["receiver"].script += [500] * 5  # the typing event, then four POSTs fail: the retries run into the night
    created = await schedule(
        setup, agentId=ids["agentId"], webhookId=ids["webhookId"], window={"after": 0, "before": 3600}
    )
    stamps: list[float] = []
    await drive(setup, clock, stamps)
    assert (await shown(setup, created["id"]))["status"] == "delivered"
    sent = [at for at, d in zip(stamps, setup["receiver"].deliveries, strict=True) if "messages" in d.json]
    assert len(sent) == 5 and not any(is_quiet(QuietHours("22:00", "08:00"), "Europe/Paris", at) for at in sent)
    assert datetime.datetime.fromtimestamp(sent[-1], ZoneInfo("Europe/Paris")).hour >= 8


async def test_a_check_in_drawn_just_after_quiet_hours_is_written_in_them_and_arrives_on_time(setup, clock):
    ids = await world(setup, **AWAKE)
    clock.now = datetime.datetime(2026, 5, 5, 7, 50, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    window = {"after": 600, "before": 720}  # 08:00-08:02: written and typed while the user's quiet hours last
    created = await schedule(setup, agentId=ids["agentId"], webhookId=ids["webhookId"], window=window)
    stamps: list[float] = []
    await drive(setup, clock, stamps)
    (typing, check_in) = setup["receiver"].deliveries
    assert check_in.json["type"] == "check_in" and int(stamps[-1]) == typing.json["until"]
    assert (
        0 <= stamps[-1] - created["scheduledFor"] < 1 or stamps[-1] - created["scheduledFor"] <= stamps[-1] - stamps[0]
    )


async def test_a_check_in_being_typed_cannot_be_canceled_like_a_reply_being_typed(setup, clock):
    """Its `agent.typing` event went out announcing when it arrives; a cancel then would break that promise, as
    it would for a message request's reply (409 there too)."""
    ids = await world(setup, **AWAKE)
    created = await schedule(
        setup, agentId=ids["agentId"], webhookId=ids["webhookId"], conversationId="c9", window={"after": 600}
    )
    queue = setup["services"].storage.queue
    for _ in range(20):  # run to the moment its typing is announced
        if setup["receiver"].deliveries:
            break
        clock.now = max(clock.now, await queue.next_due(clock.now - 0.001) or clock.now)
        await run(setup)
    (typing,) = setup["receiver"].deliveries
    assert typing.json["type"] == "agent.typing"
    refused = await setup["client"].delete(f"/api/v1/check-ins/{created['id']}", headers=setup["auth"])
    assert refused.status_code == 409 and "being typed" in refused.json()["detail"], refused.text
    assert (await shown(setup, created["id"]))["status"] == "scheduled"
