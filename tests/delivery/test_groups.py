"""Groups in-process: who answers a group's message, each reply its own delivery timed by its speaker, agents
answering each other within maxAgentTurns, superseding, and seeded reproducibility, with an injected clock."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from novaro_lite.api.schemas.events import AgentTypingEvent, MessageReadEvent
from novaro_lite.domain.agents import ActiveHours
from novaro_lite.domain.timing import JITTER_MINUTES, is_awake
from tests.delivery.steps import fetch, run
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
ALWAYS = {"start": "00:00", "end": "00:00"}


async def agent(setup: dict[str, Any], name: str, **fields: Any) -> str:
    body = {"name": name, "activeHours": ALWAYS, "persona": f"{name} is a flatmate. Likes tea."} | fields
    response = await setup["client"].post("/api/v1/agents", json=body, headers=setup["auth"])
    assert response.status_code == 201, response.text
    agent_id: str = response.json()["id"]
    return agent_id


async def group(setup: dict[str, Any], *members: str, **fields: Any) -> str:
    body = {"name": "Flatmates", "members": [{"agentId": m, "talkativeness": 100} for m in members]} | fields
    response = await setup["client"].post("/api/v1/groups", json=body, headers=setup["auth"])
    assert response.status_code == 201, response.text
    group_id: str = response.json()["id"]
    return group_id


async def say(setup: dict[str, Any], group_id: str, text: str, chat: str = "flat-chat", **extra: Any) -> Any:
    body = {
        "groupId": group_id,
        "webhookId": setup["hook"]["id"],
        "reference": "r-1",
        "conversationId": chat,
        "messages": [{"role": "user", "name": "Sam", "content": text}],
    } | extra
    return await setup["client"].post("/api/v1/message-requests", json=body, headers=setup["auth"])


async def pending(setup: dict[str, Any], group_id: str) -> list[dict[str, Any]]:
    found = await setup["client"].get(
        "/api/v1/message-requests", params={"groupId": group_id, "limit": 100}, headers=setup["auth"]
    )
    return [r for r in found.json()["data"] if r["status"] in ("scheduled", "generating", "delivering")]


async def run_exchange(setup: dict[str, Any], clock, group_id: str, chat: str | None = None) -> None:
    """Move the clock to each due time in turn and run the dispatcher until nothing of the group is pending."""
    for _ in range(30):
        due = [r["scheduledFor"] for r in await pending(setup, group_id) if chat in (None, r["conversationId"])]
        if not due:
            return
        clock.now = max(clock.now, min(due) + 1)
        await run(setup)
    raise AssertionError("the exchange did not end")


def replies(setup: dict[str, Any]) -> list[dict[str, Any]]:
    return [d.json for d in setup["receiver"].deliveries if d.json["type"] == "reply"]


async def test_the_named_agent_answers_then_another_answers_it_each_in_its_own_delivery(setup, clock):
    lena, marco = await agent(setup, "Lena"), await agent(setup, "Marco")
    group_id = await group(setup, marco, lena)
    accepted = await say(setup, group_id, "Lena, are you coming tonight?", seed=7)
    assert accepted.status_code == 202, accepted.text
    first = accepted.json()
    assert (first["agentId"], first["groupId"], first["turn"], first["follows"]) == (lena, group_id, 1, None)
    await run_exchange(setup, clock, group_id)
    one, two = replies(setup)
    assert (one["agentId"], one["groupId"], one["conversationId"], one["turn"]) == (lena, group_id, "flat-chat", 1)
    assert (two["agentId"], two["turn"]) == (marco, 2)
    # Marco answered Lena's reply: the demo model quotes the last message it was shown, with its writer.
    assert 'You said: "Lena: ' in two["messages"][1]["content"] and "Lena here" in one["messages"][0]["content"]
    second = await fetch(setup, two["id"])
    assert second["follows"] == first["id"] and second["status"] == "delivered"
    assert second["deliveredAt"] >= (await fetch(setup, first["id"]))["deliveredAt"]


async def test_read_and_typing_events_name_the_group_and_the_turn_of_their_reply(setup, clock, receiver):
    hook = await setup["client"].post(
        "/api/v1/webhooks", json={"url": receiver[0], "events": ["reply", "read", "typing"]}, headers=setup["auth"]
    )
    setup["hook"] = hook.json()
    lena, marco = await agent(setup, "Lena"), await agent(setup, "Marco")
    group_id = await group(setup, lena, marco, maxAgentTurns=2)
    assert (await say(setup, group_id, "Lena, are you coming tonight?", seed=7)).status_code == 202
    await run_exchange(setup, clock, group_id)
    turns = {reply["id"]: (reply["agentId"], reply["turn"]) for reply in replies(setup)}
    assert sorted(turn for _, turn in turns.values()) == [1, 2]
    sent = [d.json for d in setup["receiver"].deliveries if d.json["type"] != "reply"]
    assert sorted(event["type"] for event in sent) == ["agent.typing"] * 2 + ["message.read"] * 2
    for event in sent:
        model = MessageReadEvent if event["type"] == "message.read" else AgentTypingEvent
        model.model_validate(event)  # the OpenAPI `webhooks` section describes what was sent
        assert event["groupId"] == group_id and event["conversationId"] == "flat-chat"
        assert (event["agentId"], event["turn"]) == turns[event["id"]]


async def test_never_more_agent_turns_than_allowed_and_list_goes_in_member_order(setup, clock):
    ids = [await agent(setup, name) for name in ("Ana", "Ben", "Cleo")]
    group_id = await group(setup, *ids, strategy="list", maxAgentTurns=2)
    assert (await say(setup, group_id, "Cleo?")).status_code == 202
    await run_exchange(setup, clock, group_id)
    assert [r["agentId"] for r in replies(setup)] == ids[:2]


async def test_an_agent_asleep_answers_after_it_wakes_never_in_its_sleep(setup, clock):
    here = datetime.datetime.fromtimestamp(clock.now, ZoneInfo("UTC"))
    # Asleep now: awake only from 10 hours from now for two hours.
    start = (here + datetime.timedelta(hours=10)).strftime("%H:00")
    end = (here + datetime.timedelta(hours=12)).strftime("%H:00")
    sleeper = await agent(setup, "Nina", activeHours={"start": start, "end": end})
    awake = await agent(setup, "Omar")
    group_id = await group(setup, awake, sleeper, maxAgentTurns=2)
    first = (await say(setup, group_id, "Nina, you there?", seed=3)).json()
    assert first["agentId"] == sleeper
    stored = await setup["services"].storage.agents.get("acme", sleeper)
    assert stored.active_hours == ActiveHours(start, end)
    # The window opens on the hour more than 9 hours from now, moved by the day's shift of up to JITTER_MINUTES
    # (late in an hour, 8 h 57 min from now was right: the bound once read 9 hours flat).
    wakes = clock.now + 9 * 3600 - JITTER_MINUTES * 60
    assert first["scheduledFor"] > wakes and is_awake(stored, first["scheduledFor"])
    await run_exchange(setup, clock, group_id)
    for reply in replies(setup):
        speaker = await setup["services"].storage.agents.get("acme", reply["agentId"])
        assert all(is_awake(speaker, message["createdAt"]) for message in reply["messages"])


async def test_a_new_user_message_supersedes_unread_replies_and_ends_the_exchange(setup, clock):
    lena, marco = await agent(setup, "Lena"), await agent(setup, "Marco")
    group_id = await group(setup, lena, marco)
    first = (await say(setup, group_id, "Lena?")).json()
    second = (await say(setup, group_id, "Marco?")).json()
    shown = await fetch(setup, first["id"])
    assert shown["status"] == "superseded" and shown["supersededBy"] == second["id"]
    clock.now = second["scheduledFor"] + 1
    await run(setup)  # Marco reads and types: his reply is written
    typing = await fetch(setup, second["id"])
    assert typing["status"] == "scheduled"
    third = (await say(setup, group_id, "Lena, and you?")).json()
    assert (await fetch(setup, second["id"]))["status"] == "scheduled"  # written: it still goes out
    await run_exchange(setup, clock, group_id)
    # Marco's written reply went out, but nobody answered it: the user's newer message ended that exchange.
    # Which of the two arrives first is the draw's (Lena may answer before Marco has finished typing).
    first_two = sorted((r["id"], r["turn"]) for r in replies(setup)[:2])
    assert first_two == sorted([(second["id"], 1), (third["id"], 1)])
    listed = await setup["client"].get("/api/v1/message-requests", params={"groupId": group_id}, headers=setup["auth"])
    assert [r["follows"] for r in listed.json()["data"]].count(second["id"]) == 0


async def test_a_seed_gives_the_same_speakers_times_and_demo_transcript(setup, clock):
    ids = [await agent(setup, name) for name in ("Ana", "Ben", "Cleo")]
    group_id = await group(setup, *ids, maxAgentTurns=4)
    start = clock.now
    runs = []
    for chat in ("a", "b"):
        clock.now = start
        setup["receiver"].deliveries.clear()
        assert (await say(setup, group_id, "evening all", chat=chat, seed=11)).status_code == 202
        await run_exchange(setup, clock, group_id, chat)
        runs.append([(r["agentId"], r["turn"], r["messages"]) for r in replies(setup)])
    assert runs[0] == runs[1] and len(runs[0]) >= 2


async def test_group_request_rules(setup):
    lena, marco = await agent(setup, "Lena"), await agent(setup, "Marco")
    natural = await group(setup, lena, marco)
    manual = await group(setup, lena, marco, strategy="manual")
    assert_problem(await say(setup, natural, "hi", agentId=lena), 422, "picks who answers")
    assert_problem(await say(setup, manual, "hi"), 422, "manual")
    chosen = await say(setup, manual, "hi", agentId=marco)
    assert chosen.json()["agentId"] == marco
    body = {
        "groupId": natural,
        "webhookId": setup["hook"]["id"],
        "reference": "r",
        "messages": [{"role": "user", "content": "x"}],
    }
    assert_problem(
        await setup["client"].post("/api/v1/message-requests", json=body, headers=setup["auth"]), 422, "conversationId"
    )
    assert_problem(await say(setup, "grp_nope", "hi"), 404)
    await setup["client"].delete(f"/api/v1/agents/{lena}", headers=setup["auth"])
    await setup["client"].delete(f"/api/v1/agents/{marco}", headers=setup["auth"])
    assert_problem(await say(setup, natural, "hi"), 409, "deleted")


async def test_a_speaker_deleted_before_its_turn_hands_the_turn_to_a_member_left(setup, clock):
    """The group's message was accepted: it is answered by whoever is left, not lost with the deleted member."""
    ana, ben, cleo = [await agent(setup, name) for name in ("Ana", "Ben", "Cleo")]
    group_id = await group(setup, ana, ben, cleo, maxAgentTurns=1)
    accepted = (await say(setup, group_id, "Ana, are you in tonight?", seed=3)).json()
    assert accepted["agentId"] == ana
    assert (await setup["client"].delete(f"/api/v1/agents/{ana}", headers=setup["auth"])).status_code == 204
    await run_exchange(setup, clock, group_id)
    (answer,) = replies(setup)
    assert answer["agentId"] in (ben, cleo) and answer["turn"] == 1 and answer["id"] == accepted["id"]
    stored = await fetch(setup, accepted["id"])
    assert (stored["status"], stored["agentId"]) == ("delivered", answer["agentId"])


async def test_a_manual_groups_named_member_deleted_fails_its_message_with_the_reason(setup, clock):
    ana, ben = await agent(setup, "Ana"), await agent(setup, "Ben")
    group_id = await group(setup, ana, ben, strategy="manual")
    accepted = (await say(setup, group_id, "Ana?", agentId=ana)).json()
    assert (await setup["client"].delete(f"/api/v1/agents/{ana}", headers=setup["auth"])).status_code == 204
    await run_exchange(setup, clock, group_id)
    assert replies(setup) == []  # the caller chose who answers: nobody else speaks for Ana
    stored = await fetch(setup, accepted["id"])
    assert stored["status"] == "failed" and "deleted" in stored["lastError"]
    assert "no other member of the group took its turn" in stored["lastError"]
