"""Conversations in-process: superseding, presence, typing time and read/typing events, with an injected clock."""

from __future__ import annotations

from typing import Any

import pytest

from novaro_lite.api.docs.openapi import build_openapi
from novaro_lite.api.routes import operations
from novaro_lite.domain.agents import AgentFields
from novaro_lite.domain.arrival import CHARS_PER_WORD, TYPING_SPREAD
from novaro_lite.domain.conversations import ONLINE_RESPONSE_TIMES
from novaro_lite.domain.webhooks import verify_signature
from novaro_lite.storage.store import Storage
from tests.delivery.steps import accept, fetch, request_body, run
from tests.fakes.engines import holders_of
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
SLOWEST = 40 * (1 - TYPING_SPREAD) * CHARS_PER_WORD / 60  # characters a second at 40 wpm, slowest draw


def replies(setup: dict[str, Any]) -> list[Any]:
    return [d for d in setup["receiver"].deliveries if d.json["type"] == "reply"]


def events(setup: dict[str, Any]) -> list[Any]:
    return [d for d in setup["receiver"].deliveries if d.json["type"] != "reply"]


async def say(setup: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    return await accept(setup, conversationId="chat-1", messages=[{"role": "user", "content": text}], **extra)


async def until_delivered(setup: dict[str, Any], clock, request_id: str) -> dict[str, Any]:
    """Move the clock to each due time (read, typing, arrival) and run the dispatcher until the reply is out."""
    for _ in range(6):
        shown: dict[str, Any] = await fetch(setup, request_id)
        if shown["status"] == "delivered":
            return shown
        due = await setup["services"].storage.queue.next_due(clock.now - 0.001)  # due now counts too
        clock.now = max(clock.now, shown["scheduledFor"] + 1 if due is None else due)
        await run(setup)
    raise AssertionError(f"{request_id} was not delivered: {shown}")


async def test_three_requests_in_thirty_seconds_get_one_reply(setup, clock, settings):
    start = clock.now
    # The first is read a minute from now (fixed, so the test never meets the 5% of draws under 30 s, when
    # the agent would already have opened the chat); the next two are timed by the model and supersede it.
    first = await say(setup, "first-secret-line", delay={"seconds": 60})
    clock.now = start + 10
    second = await say(setup, "second-secret-line")
    clock.now = start + 30
    third = await say(setup, "third line")
    assert third["scheduledFor"] <= first["scheduledFor"]
    for earlier, newer in ((first, second), (second, third)):
        shown = await fetch(setup, earlier["id"])
        assert shown["status"] == "superseded" and shown["supersededBy"] == newer["id"]
        assert shown["conversationId"] == "chat-1"
        stored = await setup["services"].storage.requests.get("acme", earlier["id"])
        assert stored.messages is None  # purged like a cancel
    await setup["services"].storage.database.checkpoint()
    assert await holders_of(settings, "first-secret-line") == await holders_of(settings, "second-secret-line") == []

    delivered = await until_delivered(setup, clock, third["id"])
    (reply,) = replies(setup)
    assert reply.json["id"] == third["id"]
    text = "".join(message["content"] for message in reply.json["messages"])
    typing_at_most = len(text) / SLOWEST + len(reply.json["messages"])
    assert delivered["deliveredAt"] <= first["scheduledFor"] + typing_at_most + 2
    # The bubbles' createdAt agree with the typing: the last one is the delivery time.
    stamps = [message["createdAt"] for message in reply.json["messages"]]
    assert stamps == sorted(stamps) and abs(stamps[-1] - delivered["deliveredAt"]) <= 1
    assert third["scheduledFor"] < stamps[-1]


async def test_a_message_after_a_delayed_one_is_not_promised_in_the_agents_sleep(setup, clock):
    """At 02:00 a request with a one-minute `delay`, then one timed by the model: the second took the first's
    minute as its scheduledFor, yet, humanlike, waited for the agent to wake, hours later than it said."""
    clock.now = setup["services"].clock() - 10 * 3600  # 02:00 UTC: the default agent sleeps from 23:00 to 08:00
    first = await say(setup, "are you up?", delay={"seconds": 60})
    clock.now += 5
    second = await say(setup, "never mind, tomorrow")
    assert (await fetch(setup, first["id"]))["status"] == "superseded"
    assert second["scheduledFor"] > first["scheduledFor"] + 5 * 3600  # after the agent wakes, as it will arrive
    delivered = await until_delivered(setup, clock, second["id"])
    assert delivered["deliveredAt"] - second["scheduledFor"] < 16 * 60  # late by typing at most


async def test_supersede_false_keeps_both_requests(setup, clock):
    first = await say(setup, "one")
    second = await say(setup, "two", supersede=False)
    assert (await fetch(setup, first["id"]))["status"] == "scheduled"
    await until_delivered(setup, clock, first["id"])
    await until_delivered(setup, clock, second["id"])
    assert len(replies(setup)) == 2


async def test_a_request_being_typed_is_not_superseded_and_the_new_one_comes_after_it(setup, clock):
    first = await say(setup, "one")
    clock.now = first["scheduledFor"] + 1
    await run(setup)  # read and generated: now being typed
    typing = await fetch(setup, first["id"])
    assert typing["status"] == "scheduled" and typing["scheduledFor"] >= first["scheduledFor"]
    assert (await setup["services"].storage.requests.get("acme", first["id"])).reply is not None
    second = await say(setup, "two")
    assert (await fetch(setup, first["id"]))["status"] == "scheduled"
    assert second["scheduledFor"] >= typing["scheduledFor"]
    await until_delivered(setup, clock, first["id"])
    await until_delivered(setup, clock, second["id"])
    assert [r.json["id"] for r in replies(setup)] == [first["id"], second["id"]]


async def test_after_a_reply_the_agent_answers_from_the_online_table(setup, clock):
    long_sessions = {"presence": {"enabled": True, "meanSessionMinutes": 1440}}  # so none ends within the test
    patched = await setup["client"].patch(
        f"/api/v1/agents/{setup['agent']['id']}", json=long_sessions, headers=setup["auth"]
    )
    assert patched.status_code == 200, patched.text
    first = await say(setup, "hi")
    await until_delivered(setup, clock, first["id"])
    online_until = await setup["services"].storage.conversations.online_until(setup["agent"]["id"], "chat-1")
    assert online_until is not None and online_until > clock.now
    clock.now += 1
    quick = await say(setup, "how are you?")
    assert quick["scheduledFor"] - clock.now <= ONLINE_RESPONSE_TIMES[-1].up_to_seconds
    # Another conversation of the same agent is cold.
    assert (await setup["services"].storage.conversations.online_until(setup["agent"]["id"], "chat-2")) is None


async def test_presence_and_typing_can_be_turned_off(setup, clock):
    agent_id, client, auth = setup["agent"]["id"], setup["client"], setup["auth"]
    response = await client.patch(
        f"/api/v1/agents/{agent_id}",
        json={"presence": {"enabled": False, "meanSessionMinutes": 10}, "typingSpeedWpm": None},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["presence"] == {"enabled": False, "meanSessionMinutes": 10.0}
    assert response.json()["typingSpeedWpm"] is None
    first = await say(setup, "hi")
    clock.now = first["scheduledFor"] + 1
    await run(setup)  # no typing: delivered at the due time in one go
    shown = await fetch(setup, first["id"])
    assert shown["status"] == "delivered" and shown["readAt"] is not None and shown["typingAt"] is None
    assert (await setup["services"].storage.conversations.online_until(agent_id, "chat-1")) is None


async def test_an_overridden_delay_is_not_typed(setup, clock):
    accepted = await say(setup, "hi", delay="immediate")
    await run(setup)
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "delivered"
    assert shown["readAt"] == int(clock.now) and shown["typingAt"] is None  # read and written at once, never typed
    (reply,) = replies(setup)  # its bubbles carry when they were sent, not typing times after the delivery
    assert {message["createdAt"] for message in reply.json["messages"]} == {shown["deliveredAt"]}


async def test_read_and_typing_events_are_signed_and_sent_only_when_subscribed(setup, clock, receiver):
    client, auth = setup["client"], setup["auth"]
    hook = (
        await client.post(
            "/api/v1/webhooks", json={"url": receiver[0], "events": ["typing", "reply", "read"]}, headers=auth
        )
    ).json()
    assert hook["events"] == ["reply", "read", "typing"]
    accepted = await accept(setup, webhookId=hook["id"], conversationId="c-9")
    delivered = await until_delivered(setup, clock, accepted["id"])
    read, typing = events(setup)
    for event in (read, typing):
        headers = event.headers
        stamp = headers["webhook-timestamp"]  # the injected clock's time, not this machine's
        verify_signature(
            hook["secret"], headers["webhook-id"], stamp, headers["webhook-signature"], event.body, int(stamp)
        )
    assert read.json == {
        "type": "message.read", "id": accepted["id"], "agentId": setup["agent"]["id"], "reference": "order-42",
        "conversationId": "c-9", "readAt": read.json["readAt"],
    }  # fmt: skip
    assert read.headers["webhook-id"] == f"{accepted['id']}.read"
    assert typing.json["type"] == "agent.typing"
    assert typing.json["until"] <= delivered["deliveredAt"] <= typing.json["until"] + 1  # the test clock steps 1 s
    # Read at the message or after (up to 3 minutes before the arrival), typed to arrive when announced or later.
    assert accepted["createdAt"] <= read.json["readAt"] <= accepted["scheduledFor"] <= typing.json["until"]
    # The request keeps both moments, as the events told them, for its timeline.
    assert delivered["readAt"] == read.json["readAt"]
    assert delivered["typingAt"] == int(typing.headers["webhook-timestamp"])
    assert delivered["readAt"] <= delivered["typingAt"] <= delivered["deliveredAt"]
    (reply,) = replies(setup)
    assert set(reply.json) == {"type", "messages", "reference", "secret", "id", "agentId", "conversationId"}
    # The default subscription is the reply alone; the moments are kept all the same.
    setup["receiver"].deliveries.clear()
    plain = await accept(setup, conversationId="c-10")
    waiting = await fetch(setup, plain["id"])
    assert waiting["readAt"] is None and waiting["typingAt"] is None
    shown = await until_delivered(setup, clock, plain["id"])
    assert events(setup) == [] and len(replies(setup)) == 1
    assert shown["readAt"] <= shown["typingAt"] <= shown["deliveredAt"]
    listed = (await client.get("/api/v1/message-requests?conversationId=c-10", headers=auth)).json()["data"]
    assert [(found["readAt"], found["typingAt"]) for found in listed] == [(shown["readAt"], shown["typingAt"])]


@pytest.mark.parametrize("events", [["read"], ["reply", "seen"], []])
async def test_webhook_events_must_include_the_reply_and_be_known(setup, receiver, events):
    response = await setup["client"].post(
        "/api/v1/webhooks", json={"url": receiver[0], "events": events}, headers=setup["auth"]
    )
    assert_problem(response, 422)


async def test_events_can_be_changed_and_requests_listed_by_conversation(setup, clock):
    client, auth = setup["client"], setup["auth"]
    patched = await client.patch(
        f"/api/v1/webhooks/{setup['hook']['id']}", json={"events": ["reply", "read"]}, headers=auth
    )
    assert patched.json()["events"] == ["reply", "read"]
    assert (await client.get(f"/api/v1/webhooks/{setup['hook']['id']}", headers=auth)).json()["events"] == [
        "reply",
        "read",
    ]
    mine = await say(setup, "x")
    await accept(setup, conversationId="other")
    listed = await client.get("/api/v1/message-requests", params={"conversationId": "chat-1"}, headers=auth)
    assert [item["id"] for item in listed.json()["data"]] == [mine["id"]]


async def test_agent_conversation_fields_round_trip_and_are_bounded(setup):
    client, auth = setup["client"], setup["auth"]
    body = {
        "name": "Bea",
        "presence": {"enabled": True, "meanSessionMinutes": 3.5},
        "onlineResponseTimes": [{"upToSeconds": 10, "probability": 0.5}, {"upToSeconds": 60, "probability": 0.5}],
        "typingSpeedWpm": 90,
    }
    created = (await client.post("/api/v1/agents", json=body, headers=auth)).json()
    assert {key: created[key] for key in body} == body
    assert setup["agent"]["presence"] == {"enabled": True, "meanSessionMinutes": 10.0}
    assert setup["agent"]["typingSpeedWpm"] == 40 and setup["agent"]["onlineResponseTimes"] is None
    bad: dict[str, Any]
    for bad in ({"typingSpeedWpm": 1000}, {"presence": {"meanSessionMinutes": 0}}, {"onlineResponseTimes": []}):
        assert_problem(await client.post("/api/v1/agents", json={"name": "C", **bad}, headers=auth), 422)
    too_long = await accept_raw(setup, conversationId="x" * 201)
    assert_problem(too_long, 422)


async def accept_raw(setup: dict[str, Any], **extra: Any) -> Any:
    return await setup["client"].post(
        "/api/v1/message-requests", json=request_body(setup, **extra), headers=setup["auth"]
    )


async def test_an_event_the_receiver_refuses_does_not_hold_up_the_reply(setup, clock, receiver):
    client, auth = setup["client"], setup["auth"]
    hook = (
        await client.post("/api/v1/webhooks", json={"url": receiver[0], "events": ["reply", "read"]}, headers=auth)
    ).json()
    setup["receiver"].script += [500]  # the read event
    accepted = await accept(setup, webhookId=hook["id"], conversationId="c-1")
    shown = await until_delivered(setup, clock, accepted["id"])
    assert shown["attempts"] == 1 and len(replies(setup)) == 1 and len(events(setup)) == 1


async def test_a_reply_typed_for_a_deleted_agent_is_still_delivered_without_presence(setup, clock):
    first = await say(setup, "one")
    clock.now = first["scheduledFor"] + 1
    await run(setup)  # being typed
    deleted = await setup["client"].delete(f"/api/v1/agents/{setup['agent']['id']}", headers=setup["auth"])
    assert deleted.status_code == 204
    await until_delivered(setup, clock, first["id"])
    assert (await setup["services"].storage.conversations.online_until(setup["agent"]["id"], "chat-1")) is None


async def test_presence_survives_a_restart_and_goes_with_its_agent(tmp_path):
    path, now = tmp_path / "novaro.db", 1_790_000_000.0
    async with Storage.open(path, lambda: now) as storage:
        agent = await storage.agents.create("acme", AgentFields(name="Ada"))
        await storage.conversations.set_online(agent.id, "room", now + 600, now)
        await storage.conversations.set_online(agent.id, "old-room", now - 1, now - 700)
        await storage.conversations.set_online(agent.id, "room-2", now + 60, now)  # forgets old-room
    async with Storage.open(path, lambda: now) as storage:
        assert await storage.conversations.online_until(agent.id, "room") == now + 600
        assert await storage.conversations.online_until(agent.id, "old-room") is None
        await storage.agents.delete("acme", agent.id)
        assert await storage.conversations.online_until(agent.id, "room") is None


def test_the_openapi_document_describes_both_events():
    spec = build_openapi(operations())
    read = spec["webhooks"]["messageRead"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    typing = spec["webhooks"]["agentTyping"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    shared = {"type", "id", "agentId", "reference", "conversationId", "groupId", "turn"}
    assert set(read["properties"]) == shared | {"readAt"} and set(typing["properties"]) == shared | {"until"}
    assert set(read["required"]) == {"type", "id", "agentId", "reference", "conversationId", "readAt"}
    assert read["properties"]["type"]["const"] == "message.read"
    request = spec["components"]["schemas"]["MessageRequestCreate"]["properties"]
    assert request["conversationId"]["anyOf"][0]["maxLength"] == 200 and request["supersede"]["default"] is True


async def test_an_event_refused_by_the_target_policy_is_logged_without_the_webhook_url(caplog):
    import logging
    from types import SimpleNamespace

    from novaro_lite.delivery.conversations import _send_event
    from novaro_lite.outbound.targets import TargetRefusedError

    url = "https://hooks.example.com/services/T0/B0/secret-path-token?key=query-secret"

    class Refusing:
        async def post(self, webhook: Any, webhook_id: str, body: bytes) -> Any:
            raise TargetRefusedError(f"The webhook URL {url} names the host hooks.example.com, which does not resolve.")

    webhook = SimpleNamespace(id="whk_1", events=("message.read",), enabled=True, url=url)
    request = SimpleNamespace(id="req_1")
    with caplog.at_level(logging.INFO):
        await _send_event(Refusing(), request, "message.read", b"{}", webhook)  # type: ignore[arg-type]
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "req_1" in logged and "whk_1" in logged
    assert "secret-path-token" not in logged and "query-secret" not in logged
