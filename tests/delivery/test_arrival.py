"""Humanlike replies in-process (issue 25): read, typing and arrival in that order, at the drawn moment, one
conversation's replies one after another, nothing in the agent's sleep, and a reply being typed is a promise."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from novaro_lite.config.settings import Settings
from novaro_lite.domain.agents import ActiveHours, Agent
from novaro_lite.domain.timing import is_awake
from tests.delivery.steps import accept, fetch, run
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
AWAKE = {"activeHours": {"start": "00:00", "end": "00:00"}}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Retries long enough to run from an evening into the night."""
    return dataclasses.replace(
        settings, delivery=dataclasses.replace(settings.delivery, retry_schedule=(5, 300, 3600, 3600, 3600, 3600))
    )


async def world(setup: dict[str, Any], **agent: Any) -> dict[str, str]:
    """An agent (as given) and a webhook subscribed to every event; the ids to send requests with."""
    client, auth = setup["client"], setup["auth"]
    made = await client.post("/api/v1/agents", json={"name": "Ida", **agent}, headers=auth)
    hook = await client.post(
        "/api/v1/webhooks", json={"url": setup["hook"]["url"], "events": ["reply", "read", "typing"]}, headers=auth
    )
    return {"agentId": made.json()["id"], "webhookId": hook.json()["id"]}


async def drive(setup: dict[str, Any], clock: Any, stamps: list[float]) -> None:
    """Run the dispatcher at each due time until nothing is pending; stamp each POST the receiver got."""
    queue = setup["services"].storage.queue
    for _ in range(100):
        seen = len(setup["receiver"].deliveries)
        await run(setup)
        stamps += [clock.now] * (len(setup["receiver"].deliveries) - seen)
        # Due now too: a reply written to be typed at once is kept first, due again at once.
        due = await queue.next_due(clock.now - 0.001)
        if due is None:
            return
        clock.now = max(clock.now, due)
    raise AssertionError("still pending after 100 steps")


def kinds(setup: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d.json.get("type", "reply"), d.json["id"]) for d in setup["receiver"].deliveries]


async def test_the_reply_arrives_at_the_drawn_moment_after_read_and_typing(setup, clock):
    ids = await world(setup, **AWAKE)
    for index in range(5):
        setup["receiver"].deliveries.clear()
        accepted = await accept(setup, **ids, conversationId=f"c{index}")
        stamps: list[float] = []
        await drive(setup, clock, stamps)
        (read, typing, reply) = setup["receiver"].deliveries
        assert [read.json["type"], typing.json["type"], "messages" in reply.json] == [
            "message.read",
            "agent.typing",
            True,
        ]
        read_at, typing_at, arrived = stamps
        assert read_at <= typing_at <= arrived
        assert int(arrived) == typing.json["until"]  # the typing event's promise, kept
        # The drawn moment, unless typing needs longer than it leaves after reading (physics, by at most that).
        assert 0 <= arrived - accepted["scheduledFor"] < 1 or arrived - accepted["scheduledFor"] <= arrived - read_at
        assert reply.json["messages"][-1]["createdAt"] == int(arrived)


async def test_a_message_sent_during_a_reply_is_read_only_after_that_reply_arrives(setup, clock):
    ids = await world(setup, **AWAKE)
    first = await accept(setup, **ids, conversationId="c")
    shown = first
    while shown["status"] == "scheduled" and not setup["receiver"].deliveries:  # until the agent reads it
        clock.now = (await setup["services"].storage.queue.next_due(clock.now)) or clock.now
        await run(setup)
        shown = await fetch(setup, first["id"])
    second = await accept(setup, **ids, conversationId="c")  # the first is written and being typed
    # Even sent at once, it is not read before the first reply arrives (as after a stretched arrival).
    resent = await setup["client"].post(f"/api/v1/message-requests/{second['id']}/redeliver", headers=setup["auth"])
    assert resent.status_code == 202, resent.text
    stamps: list[float] = []
    await drive(setup, clock, stamps)
    assert kinds(setup) == [
        ("message.read", first["id"]),
        ("agent.typing", first["id"]),
        ("reply", first["id"]),
        ("message.read", second["id"]),
        ("agent.typing", second["id"]),
        ("reply", second["id"]),
    ]


async def test_no_read_typing_reply_or_retry_falls_in_the_agents_sleep(setup, clock):
    agent = {"timezone": "Europe/Berlin", "activeHours": {"start": "08:00", "end": "23:00"}}
    ids = await world(setup, **agent)
    berlin = datetime.datetime(2026, 5, 4, 22, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    clock.now = berlin.timestamp()
    # The read and typing events, then five tries of the reply fail: the retries run into the night.
    setup["receiver"].script += [500] * 7
    model = Agent(name="Ida", id=ids["agentId"], account="acme", created_at=0, updated_at=0,
                  timezone="Europe/Berlin", active_hours=ActiveHours("08:00", "23:00"))  # fmt: skip
    accepted = await accept(setup, **ids, conversationId="c")
    stamps: list[float] = []
    await drive(setup, clock, stamps)
    assert (await fetch(setup, accepted["id"]))["status"] == "delivered"
    assert all(is_awake(model, at) for at in stamps)
    replies = [at for at, d in zip(stamps, setup["receiver"].deliveries, strict=True) if "messages" in d.json]
    assert len(replies) > 1 and datetime.datetime.fromtimestamp(replies[-1], ZoneInfo("Europe/Berlin")).hour >= 7


async def test_a_reply_being_typed_can_be_neither_canceled_nor_sent_sooner(setup, clock):
    ids = await world(setup, **AWAKE)
    accepted = await accept(setup, **ids, conversationId="c")
    while not any(d.json.get("type") == "agent.typing" for d in setup["receiver"].deliveries):
        clock.now = (await setup["services"].storage.queue.next_due(clock.now)) or clock.now
        await run(setup)
    path = f"/api/v1/message-requests/{accepted['id']}"
    assert_problem(await setup["client"].delete(path, headers=setup["auth"]), 409)
    assert_problem(await setup["client"].post(f"{path}/redeliver", headers=setup["auth"]), 409)
    stamps: list[float] = []
    await drive(setup, clock, stamps)
    (typing,) = [d.json for d in setup["receiver"].deliveries if d.json.get("type") == "agent.typing"]
    assert int(stamps[-1]) == typing["until"]  # it arrives as the typing event announced


async def test_an_agent_without_a_typing_speed_sends_its_reply_whole_at_the_drawn_moment(setup, clock):
    """docs/api.md: `"typingSpeedWpm": null` means no typing; the reply arrives at the drawn time."""
    ids = await world(setup, **AWAKE, typingSpeedWpm=None)
    for index in range(5):
        setup["receiver"].deliveries.clear()
        accepted = await accept(setup, **ids, conversationId=f"c{index}")
        stamps: list[float] = []
        await drive(setup, clock, stamps)
        assert kinds(setup) == [("message.read", accepted["id"]), ("reply", accepted["id"])]  # read, never typed
        reply = setup["receiver"].deliveries[-1].json
        assert int(stamps[-1]) == accepted["scheduledFor"]  # the drawn moment, not a second later
        assert {bubble["createdAt"] for bubble in reply["messages"]} == {accepted["scheduledFor"]}


async def test_a_delay_override_skips_sleep_and_typing(setup, clock):
    """docs/api.md: `"delay": {"seconds": N}` skips all human timing: the reply goes out N seconds after the
    request, untyped, though the agent is asleep then."""
    here = datetime.datetime.fromtimestamp(clock.now, ZoneInfo("UTC"))
    asleep = {
        "timezone": "UTC",
        "activeHours": {"start": f"{(here.hour + 2) % 24:02}:00", "end": f"{(here.hour + 4) % 24:02}:00"},
    }
    ids = await world(setup, **asleep)
    for delay in ("immediate", {"seconds": 90}):
        setup["receiver"].deliveries.clear()
        accepted = await accept(setup, **ids, conversationId="c", delay=delay)
        stamps: list[float] = []
        await drive(setup, clock, stamps)
        assert ("agent.typing", accepted["id"]) not in kinds(setup)
        assert kinds(setup)[-1] == ("reply", accepted["id"])
        wait = 0 if delay == "immediate" else 90
        assert accepted["scheduledFor"] == accepted["createdAt"] + wait and int(stamps[-1]) == accepted["scheduledFor"]


async def test_sending_now_a_reply_whose_agent_sleeps_is_refused_with_the_reason(setup, clock):
    """The request would only wait for the wake-up again, while a 202 said "now" (the dashboard's Deliver now
    looked broken). With the agent awake it is sent now, as before."""
    here = datetime.datetime.fromtimestamp(clock.now, ZoneInfo("Europe/Berlin"))
    hours = {
        "start": (here + datetime.timedelta(hours=6)).strftime("%H:00"),
        "end": (here + datetime.timedelta(hours=9)).strftime("%H:00"),
    }
    ids = await world(setup, activeHours=hours, timezone="Europe/Berlin")
    accepted = await accept(setup, **ids, conversationId="night")
    path = f"/api/v1/message-requests/{accepted['id']}"
    refused = assert_problem(await setup["client"].post(f"{path}/redeliver", headers=setup["auth"]), 409)
    detail = refused["detail"]
    assert "Ida is asleep now" in detail and hours["start"] in detail and "Europe/Berlin" in detail
    assert (await fetch(setup, accepted["id"]))["scheduledFor"] == accepted["scheduledFor"]  # left as it was
    awake = await world(setup, **AWAKE)
    other = await accept(setup, **awake, conversationId="day")
    resent = await setup["client"].post(f"/api/v1/message-requests/{other['id']}/redeliver", headers=setup["auth"])
    assert resent.status_code == 202 and resent.json()["scheduledFor"] == int(clock.now)
