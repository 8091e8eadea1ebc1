"""Humanlike replies on `novaro-lite serve --workers 2` (issue 25, item 8): the order a person keeps, and a promise.

Two worker processes share one queue, so any step of a reply (its read, its typing, its arrival) may be
claimed by either. The receiver still sees each message read, then typed, then answered, and a
conversation's messages answered one after another; and a shutdown while a reply is being typed does not
make it arrive before the moment its `agent.typing` event announced. Realtime generation goes through the
fake upstream (`echo`: a 35-character reply to "hi"), replies and events to a local receiver.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.e2e import test_workers
from tests.e2e.server import running_server
from tests.e2e.test_workers import ENV, clients, server_args, until
from tests.fakes.receiver import Answer, Receipt, Receiver

upstream, receiver = test_workers.upstream, test_workers.receiver  # the same fixtures
EVENTS = ["reply", "read", "typing"]
AWAKE = {"start": "00:00", "end": "00:00"}  # never asleep: sleep must not move any step


def kind(receipt: Receipt) -> str:
    return str(receipt.json.get("type", "reply"))


def receipts_of(rx: Receiver, request_id: str) -> list[Receipt]:
    return [receipt for receipt in list(rx.receipts) if receipt.json["id"] == request_id]


def say(client: httpx.Client, agent_id: str, hook_id: str, conversation: str, text: str) -> str:
    body = {"agentId": agent_id, "webhookId": hook_id, "reference": text, "conversationId": conversation}
    response = client.post("/api/v1/message-requests", json=body | {"messages": [{"role": "user", "content": text}]})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_two_workers_read_type_and_answer_each_message_in_order(tmp_path: Path, upstream: str, receiver):
    rx, hook_url = receiver
    # At time_scale 60 a reply comes within a second (a minute, on the agent's clock) and is typed in 0.2 s.
    args = server_args(tmp_path, upstream, time_scale=60)
    with running_server(args, cwd=tmp_path, env=ENV) as server, clients(server) as (_, pooled):
        quick = [{"upToSeconds": 60, "probability": 1}]
        agent = {"name": "Ana", "activeHours": AWAKE, "responseTimes": quick, "onlineResponseTimes": quick}
        agent_id = pooled.post("/api/v1/agents", json=agent).json()["id"]
        hook_id = pooled.post("/api/v1/webhooks", json={"url": hook_url, "events": EVENTS}).json()["id"]

        def chat(conversation: str) -> list[str]:
            """Three messages, each sent as soon as the one before was read: it comes while the agent writes or
            types the earlier reply, so it is neither superseded nor answered in the same reply."""
            sent = []
            for text in ("hi", "are you there?", "hello??"):
                sent.append(say(pooled, agent_id, hook_id, conversation, text))
                until(lambda: any(kind(r) == "message.read" for r in receipts_of(rx, sent[-1])), 30, "a read")
            return sent

        with ThreadPoolExecutor(8) as pool:
            conversations = list(pool.map(chat, [f"chat-{index}" for index in range(8)]))
        last = [sent[-1] for sent in conversations]
        until(lambda: all(any(kind(r) == "reply" for r in receipts_of(rx, rid)) for rid in last), 30, "last replies")
        time.sleep(0.5)  # anything sent twice, or late, would arrive now

    one_by_one = ["message.read", "agent.typing", "reply"]
    for sent in conversations:
        seen = [(kind(r), r.json["id"]) for r in list(rx.receipts) if r.json["id"] in sent]
        assert seen == [(event, request_id) for request_id in sent for event in one_by_one], seen


def test_a_shutdown_while_a_reply_is_typed_keeps_the_arrival_its_typing_event_announced(
    tmp_path: Path, upstream: str, receiver
):
    rx, hook_url = receiver
    # The read event is answered at once; the typing event is held until the server has stopped, so the shutdown
    # comes while a worker is still sending it, the reply leased to it; every later delivery is answered at once.
    stopped = threading.Event()
    rx.answer(Answer(), Answer(hold=stopped))
    # At time_scale 8 and 5 words a minute, "Echo: hi…" takes 9-13 s to type: longer than a restart.
    args = server_args(tmp_path, upstream, time_scale=8, shutdown_grace_seconds=0.2)
    with running_server(args, cwd=tmp_path, env=ENV) as server, clients(server) as (_, pooled):
        token = server.first_token
        agent = {"name": "Ana", "activeHours": AWAKE, "typingSpeedWpm": 5}
        agent["responseTimes"] = [{"upToSeconds": 30, "probability": 1}]  # sooner than the typing: it starts at once
        agent_id = pooled.post("/api/v1/agents", json=agent).json()["id"]
        hook_id = pooled.post("/api/v1/webhooks", json={"url": hook_url, "events": EVENTS}).json()["id"]
        request_id = say(pooled, agent_id, hook_id, "chat", "hi")
        typing = until(lambda: [r for r in receipts_of(rx, request_id) if kind(r) == "agent.typing"], 30, "typing")
        announced = typing[0].json["until"]
        os.kill(server.process.pid, signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
        stopped.set()

    # One process takes it up again (it starts sooner than two).
    with running_server(args[2:], cwd=tmp_path, env=ENV) as server:
        auth = {"Authorization": f"Bearer {token}"}
        shown: dict[str, Any] = httpx.get(f"{server.url}/api/v1/message-requests/{request_id}", headers=auth).json()
        in_time = time.time() < announced - 1  # so far, as it should be; on a very busy machine, maybe not
        reply = until(lambda: [r for r in receipts_of(rx, request_id) if kind(r) == "reply"], 60, "the reply")[0]
    arrived_at = time.time() - (time.monotonic() - reply.at)
    typed = [r.json["until"] for r in receipts_of(rx, request_id) if kind(r) == "agent.typing"]
    assert arrived_at >= announced  # never handed back as due at once
    assert reply.json["messages"][-1]["createdAt"] == typed[-1]  # arrives when its last typing event said
    if in_time:  # taken up before its arrival: the promise is kept to the second
        assert shown["status"] == "scheduled" and shown["scheduledFor"] == announced
        assert typed == [announced, announced]  # typed again after the restart, to the same moment
    else:  # the process was down past it: typed again from then, so that no bubble's time lies
        assert typed[-1] > announced
