"""Conversations through the real server process and a loopback receiver, on a fast clock (time_scale).

The agent's own cold table is slow (0-60 min) and its sessions long (24 h on average), so a follow-up
read within 5 model minutes, every time, comes from the online table.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

from novaro_lite.domain.arrival import MAX_TYPING_SECONDS
from tests.e2e import test_async_delivery
from tests.e2e.test_async_delivery import Api, novaro, until
from tests.fakes.receiver import Answer, Receipt, Receiver

receiver = test_async_delivery.receiver  # the same fixture: (Receiver, its URL)

SCALE = 600
AGENT = {
    "name": "Mira",
    "activeHours": {"start": "00:00", "end": "00:00"},  # never asleep: the test is about conversations
    "responseTimes": [{"upToSeconds": 3600, "probability": 1}],
    "presence": {"enabled": True, "meanSessionMinutes": 1440},
}


def setup(api: Api, hook_url: str) -> tuple[str, dict[str, Any]]:
    agent = api.client.post("/api/v1/agents", json=AGENT)
    assert agent.status_code == 201, agent.text
    hook = api.client.post("/api/v1/webhooks", json={"url": hook_url, "events": ["reply", "read", "typing"]})
    assert hook.status_code == 201, hook.text
    return agent.json()["id"], hook.json()


def say(api: Api, agent_id: str, hook_id: str, text: str, **extra: Any) -> dict[str, Any]:
    body = {
        "agentId": agent_id,
        "webhookId": hook_id,
        "reference": "chat-ref",
        "conversationId": "room-1",
        "messages": [{"role": "user", "content": text}],
        **extra,
    }
    response = api.client.post("/api/v1/message-requests", json=body)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def of_type(rx: Receiver, kind: str | None) -> list[Receipt]:
    """What room-1 received of this kind (another chat may share the receiver)."""
    return [r for r in list(rx.receipts) if r.json.get("type") == kind and r.json.get("conversationId") == "room-1"]


def test_three_quick_messages_get_one_typed_reply_with_read_and_typing_events(tmp_path: Path, receiver):
    rx, hook_url = receiver
    # The server's only delivery slot is kept busy by another chat's event, held by the receiver, while the three
    # messages go in: none of them can be read before the last is accepted, however slow the machine. (Left to
    # the clock, a message drawn to be answered at once is read before the next arrives, and is answered alone.)
    slot_free = threading.Event()
    rx.answer(Answer(hold=slot_free))
    with novaro(tmp_path, time_scale=SCALE, sweep_seconds=0.5, max_in_flight=1, webhook_timeout=60) as api:
        agent_id, hook = setup(api, hook_url)
        say(api, agent_id, hook["id"], "meanwhile, elsewhere", conversationId="room-2", delay="immediate")
        until(lambda: rx.receipts, 10, "the other chat's first event")
        # The first would be read 600 model seconds (1 s) from now; the next two supersede it.
        first = say(api, agent_id, hook["id"], "are you there?", delay={"seconds": 600})
        second = say(api, agent_id, hook["id"], "hello??")
        third = say(api, agent_id, hook["id"], "call me when you can")
        slot_free.set()
        assert third["scheduledFor"] <= first["scheduledFor"]
        for earlier, newer in ((first, second), (second, third)):
            shown = api.get(earlier["id"])
            assert shown["status"] == "superseded" and shown["supersededBy"] == newer["id"]
        done = api.wait_status(third["id"], "delivered", timeout=15)
        (reply,) = of_type(rx, "reply")  # the superseded two have ended: nothing else will arrive
        assert reply.json["id"] == third["id"]

        # One read, one typing event, then the reply: all signed like it, for the request that answered.
        (read,), (typing,) = of_type(rx, "message.read"), of_type(rx, "agent.typing")
        assert read.at <= typing.at <= reply.at
        for receipt in (read, typing, reply):
            assert Webhook(hook["secret"]).verify(receipt.body, receipt.headers) == receipt.json
        assert read.json["id"] == typing.json["id"] == third["id"]
        assert read.json["conversationId"] == "room-1" and read.json["agentId"] == agent_id
        assert typing.json["until"] <= done["deliveredAt"] + 1
        stamps = [bubble["createdAt"] for bubble in reply.json["messages"]]
        assert stamps == sorted(stamps) and stamps[-1] == typing.json["until"]
        # Announced to arrive by the first's due time, or (when writing ended past it: a held or busy server)
        # when the typing started then ends; scheduledFor and typingAt are whole seconds.
        assert typing.json["until"] <= max(first["scheduledFor"], done["typingAt"] + MAX_TYPING_SECONDS / SCALE) + 1


def test_follow_ups_inside_the_session_are_answered_from_the_online_table(tmp_path: Path, receiver):
    rx, hook_url = receiver
    scale = 60  # slower than SCALE: a session (24 min here on average) must outlast the test by far
    with novaro(tmp_path, time_scale=scale, sweep_seconds=0.5) as api:
        agent_id, hook = setup(api, hook_url)
        opening = say(api, agent_id, hook["id"], "hi", delay="immediate")
        api.wait_status(opening["id"], "delivered", timeout=5)
        waits = []
        for turn in range(3):
            accepted = say(api, agent_id, hook["id"], f"and another thing #{turn}")
            # Online: at most 5 model minutes, 5 s here; the cold table says up to 60 s (under 5 s: 1 in 12).
            waits.append(accepted["scheduledFor"] - accepted["createdAt"])
            api.wait_status(accepted["id"], "delivered", timeout=15)
        assert max(waits) <= 300 / scale + 1, waits
        assert len(of_type(rx, "reply")) == 4
