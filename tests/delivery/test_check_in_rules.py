"""Recurring check-ins through the API and the dispatcher, on both engines: one at a time, on the chosen weekdays
around the chosen time, never in the user's quiet hours, paused by an unanswered streak until the user writes."""

from __future__ import annotations

import datetime
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from novaro_lite.delivery.check_ins import yield_due
from novaro_lite.domain.check_in_rules import YIELD_LEAD_SECONDS
from novaro_lite.domain.check_ins import QuietHours, is_quiet
from tests.delivery.steps import accept, run
from tests.delivery.test_arrival import world

pytestmark = pytest.mark.anyio
PARIS = ZoneInfo("Europe/Paris")
QUIET = QuietHours("22:00", "08:15")  # the window 07:50-09:10 starts in them: nothing lands before 08:15
SEED = 1


async def advance(setup: dict[str, Any], clock: Any, rule_id: str, until: float, rng: random.Random) -> None:
    """Run the rules and the dispatcher at each moment something is due, up to `until`."""
    services = setup["services"]
    while clock.now < until:
        await yield_due(services, rng)
        await run(setup)
        rule = await services.storage.check_in_rules.get("acme", rule_id)
        times = [until, rule.next_after - YIELD_LEAD_SECONDS]
        due = await services.storage.queue.next_due(clock.now)
        times += [due] if due is not None else []
        clock.now = max(clock.now + 1, min(times))


def local(at: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(at, PARIS)


async def test_a_weekday_morning_rule_yields_one_at_a_time_and_pauses_when_unanswered(setup, clock):
    rng = random.Random(8)
    ids = await world(setup, timezone="Europe/Paris", activeHours={"start": "07:00", "end": "23:00"})
    clock.now = datetime.datetime(2026, 5, 8, 12, 0, tzinfo=PARIS).timestamp()  # a Friday
    body = ids | {
        "conversationId": "user-42",
        "reference": "good-morning",
        "topic": "say good morning",
        "at": "08:30",
        "spreadMinutes": 40,
        "timezone": "Europe/Paris",
        "quietHours": {"start": QUIET.start, "end": QUIET.end},
    }
    made = await setup["client"].post("/api/v1/check-in-rules", json=body, headers=setup["auth"])
    assert made.status_code == 201, made.text
    rule = made.json()
    assert local(rule["nextWindowOpens"]).strftime("%a %H:%M") == "Mon 07:50"  # not the weekend
    # Monday and Tuesday: delivered; Wednesday: the user answered neither, so the rule is paused.
    await advance(setup, clock, rule["id"], datetime.datetime(2026, 5, 13, 12, 0, tzinfo=PARIS).timestamp(), rng)
    sent = [d for d in setup["receiver"].deliveries if d.json.get("type") == "check_in"]
    arrived = [local(d.json["messages"][-1]["createdAt"]) for d in sent]
    assert [at.strftime("%a") for at in arrived] == ["Mon", "Tue"]
    for at in arrived:
        assert not is_quiet(QUIET, "Europe/Paris", at.timestamp())
        assert datetime.time(8, 15) <= at.time() <= datetime.time(9, 10)
    shown = (await setup["client"].get(f"/api/v1/check-in-rules/{rule['id']}", headers=setup["auth"])).json()
    assert (shown["status"], shown["lastSkipped"]) == ("active", "unanswered")
    # The user writes on Wednesday afternoon: Thursday's check-in goes out again, Friday's too. The seed draws a
    # reply that same afternoon; an unseeded draw may put it in the 1% tail, answered next morning, and an agent
    # still online in the conversation rightly skips that day's check-in (not_while_active).
    await accept(setup, agentId=ids["agentId"], webhookId=ids["webhookId"], conversationId="user-42", seed=SEED)
    await advance(setup, clock, rule["id"], datetime.datetime(2026, 5, 16, 12, 0, tzinfo=PARIS).timestamp(), rng)
    replies = [d for d in setup["receiver"].deliveries if d.json.get("type") == "reply"]
    assert [local(d.json["messages"][-1]["createdAt"]).strftime("%a") for d in replies] == ["Wed"]
    sent = [d for d in setup["receiver"].deliveries if d.json.get("type") == "check_in"]
    assert [local(d.json["messages"][-1]["createdAt"]).strftime("%a") for d in sent] == ["Mon", "Tue", "Thu", "Fri"]
    listed = await setup["client"].get("/api/v1/check-ins?conversationId=user-42", headers=setup["auth"])
    assert {c["ruleId"] for c in listed.json()["data"]} == {rule["id"]}
    canceled = await setup["client"].delete(f"/api/v1/check-in-rules/{rule['id']}", headers=setup["auth"])
    assert canceled.json()["status"] == "canceled"


async def test_deleting_its_webhook_ends_a_rule_and_it_yields_no_more(setup, clock):
    """A rule outlived its deleted webhook: active, and every occurrence stored a check-in nobody could deliver."""
    ids = await world(setup, timezone="Europe/Paris", activeHours={"start": "07:00", "end": "23:00"})
    clock.now = datetime.datetime(2026, 5, 8, 12, 0, tzinfo=PARIS).timestamp()  # a Friday
    body = ids | {"conversationId": "user-7", "reference": "r", "topic": "say hi", "at": "08:30"}
    client, auth = setup["client"], setup["auth"]
    rule = (await client.post("/api/v1/check-in-rules", json=body, headers=auth)).json()
    assert (await client.delete(f"/api/v1/webhooks/{ids['webhookId']}", headers=auth)).status_code == 204
    assert (await client.get(f"/api/v1/check-in-rules/{rule['id']}", headers=auth)).json()["status"] == "ended"
    clock.now = rule["nextWindowOpens"]
    assert await yield_due(setup["services"], random.Random(SEED)) == 0
    listed = (await client.get("/api/v1/check-ins", headers=auth)).json()["data"]
    assert listed == []


async def test_a_rule_whose_webhook_is_already_gone_ends_at_its_next_occurrence(setup, clock):
    """Rules left active by a webhook deleted before deleting ended them (an older version) end when next due."""
    ids = await world(setup, timezone="Europe/Paris", activeHours={"start": "07:00", "end": "23:00"})
    clock.now = datetime.datetime(2026, 5, 8, 12, 0, tzinfo=PARIS).timestamp()
    body = ids | {"conversationId": "user-8", "reference": "r", "topic": "say hi", "at": "08:30"}
    client, auth = setup["client"], setup["auth"]
    rule = (await client.post("/api/v1/check-in-rules", json=body, headers=auth)).json()
    await setup["services"].storage.database.write(("DELETE FROM webhooks WHERE id = ?", (ids["webhookId"],)))
    clock.now = rule["nextWindowOpens"]
    assert await yield_due(setup["services"], random.Random(SEED)) == 0
    assert (await client.get(f"/api/v1/check-in-rules/{rule['id']}", headers=auth)).json()["status"] == "ended"


async def test_an_occurrence_whose_window_passed_while_the_server_was_down_is_skipped(setup, clock):
    """Monday's 'good morning' (07:50-09:10) went out on Wednesday afternoon, after a server down since Friday:
    drawn in a window that had already ended. Now that occurrence is skipped, and the next one keeps its window."""
    ids = await world(setup, timezone="Europe/Paris", activeHours={"start": "07:00", "end": "23:00"})
    clock.now = datetime.datetime(2026, 5, 8, 12, 0, tzinfo=PARIS).timestamp()  # a Friday
    body = ids | {"conversationId": "user-9", "reference": "r", "topic": "say good morning", "at": "08:30",
                  "spreadMinutes": 40, "days": ["mon", "tue", "wed", "thu", "fri"]}  # fmt: skip
    client, auth = setup["client"], setup["auth"]
    rule = (await client.post("/api/v1/check-in-rules", json=body, headers=auth)).json()
    clock.now = datetime.datetime(2026, 5, 13, 14, 0, tzinfo=PARIS).timestamp()  # back on Wednesday afternoon
    rng = random.Random(SEED)
    assert await yield_due(setup["services"], rng) == 0
    await run(setup)
    assert setup["receiver"].deliveries == []
    shown = (await client.get(f"/api/v1/check-in-rules/{rule['id']}", headers=auth)).json()
    assert shown["lastSkipped"] == "no_moment" and local(shown["nextWindowOpens"]).strftime("%a %H:%M") == "Tue 07:50"
    await advance(setup, clock, rule["id"], datetime.datetime(2026, 5, 14, 12, 0, tzinfo=PARIS).timestamp(), rng)
    (sent,) = [d for d in setup["receiver"].deliveries if d.json.get("type") == "check_in"]
    arrived = local(sent.json["messages"][-1]["createdAt"])
    assert arrived.strftime("%a") == "Thu" and datetime.time(7, 50) <= arrived.time() <= datetime.time(9, 10)
