"""Check-in storage on both engines: the rules against spam, the user's message ending check-ins, the race."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from novaro_lite.domain.agents import AgentFields
from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.check_ins import Moment, QuietHours, Rules
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.storage.check_ins import NewCheckIn, RefusedError
from novaro_lite.storage.paging import Listing
from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio
HISTORY = (ChatMessage("user", "Exam tomorrow, wish me luck"),)
LAX = Rules(max_pending=1, daily_cap=10**6, unanswered_limit=0, not_while_active=False)


async def setup(storage: Storage) -> tuple[str, str]:
    agent = await storage.agents.create("acme", AgentFields(name="Mia"))
    webhook = await storage.webhooks.create("acme", "https://example.com/hook", "", True)
    return agent.id, webhook.id


def new(agent_id: str, webhook_id: str, conversation: str, due: float) -> NewCheckIn:
    moment = Moment(due - 60, due + 60, "UTC", QuietHours())
    return NewCheckIn(
        agent_id, webhook_id, conversation, "exam", HISTORY, "ask how the exam went", moment, Plan(due, due)
    )


async def claim_all(storage: Storage, owner: str = "own_test") -> list[str]:
    claimed = await storage.queue.claim(
        now=time.time() + 1, lease_seconds=60, limit=500, per_webhook=500, in_flight={}, working=(), owner=owner
    )
    return [request.id for request in claimed]


async def user_writes(storage: Storage, agent_id: str, webhook_id: str, conversation: str) -> None:
    await storage.requests.create(
        "acme",
        agent_id=agent_id,
        webhook_id=webhook_id,
        reference="r",
        messages=[ChatMessage("user", "It went great!")],
        context_ids=[],
        plan=Plan(time.time() + 3600, time.time() + 3600),
        conversation_id=conversation,
    )


async def test_check_in_rules_refuse_with_the_rule_named(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        agent_id, webhook_id = await setup(storage)
        rules = Rules(max_pending=1, daily_cap=2, unanswered_limit=1, not_while_active=True)
        await storage.check_ins.create("acme", new(agent_id, webhook_id, "c1", time.time()), rules)
        with pytest.raises(RefusedError) as refused:
            await storage.check_ins.create("acme", new(agent_id, webhook_id, "c1", time.time()), rules)
        assert refused.value.rule == "pending" and "max_pending" in refused.value.detail
        # Delivered and unanswered: the streak refuses the next one until the user writes.
        (check_in_id,) = await claim_all(storage)
        await storage.queue.finish_attempt(check_in_id, "own_test", None, "delivered", counter=None)
        with pytest.raises(RefusedError) as refused:
            await storage.check_ins.create("acme", new(agent_id, webhook_id, "c1", time.time()), rules)
        assert refused.value.rule == "unanswered"
        await user_writes(storage, agent_id, webhook_id, "c1")
        # The user's message is waiting for its reply: the conversation is active.
        with pytest.raises(RefusedError) as refused:
            await storage.check_ins.create("acme", new(agent_id, webhook_id, "c1", time.time()), rules)
        assert refused.value.rule == "active"
        await storage.check_ins.create("acme", new(agent_id, webhook_id, "c2", time.time()), rules)
        await storage.conversations.set_online(agent_id, "c3", time.time() + 600, time.time())
        with pytest.raises(RefusedError) as refused:
            await storage.check_ins.create("acme", new(agent_id, webhook_id, "c3", time.time()), rules)
        assert refused.value.rule == "active"


async def test_check_in_daily_cap_counts_the_last_24_hours(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        agent_id, webhook_id = await setup(storage)
        rules = Rules(max_pending=5, daily_cap=2, unanswered_limit=0, not_while_active=False)
        for _ in range(2):
            await storage.check_ins.create("acme", new(agent_id, webhook_id, "c1", time.time() + 3600), rules)
        with pytest.raises(RefusedError) as refused:
            await storage.check_ins.create("acme", new(agent_id, webhook_id, "c1", time.time() + 3600), rules)
        assert refused.value.rule == "daily_cap"
        await storage.check_ins.create("acme", new(agent_id, webhook_id, "other", time.time() + 3600), rules)


async def test_user_message_ends_waiting_check_ins_and_purges_their_content(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        agent_id, webhook_id = await setup(storage)
        await storage.check_ins.create("acme", new(agent_id, webhook_id, "c1", time.time() + 3600), LAX)
        await storage.check_ins.create("acme", new(agent_id, webhook_id, "c2", time.time() + 3600), LAX)
        await user_writes(storage, agent_id, webhook_id, "c1")
        assert await storage.check_ins.user_wrote(agent_id, "c2") == 1
        page = await storage.check_ins.list("acme", Listing(10))
        assert [(c.status, c.canceled_reason) for c in page.items] == [("canceled", "user_wrote")] * 2
        rows = await storage.database.all(
            "SELECT messages, topic, reply FROM message_requests WHERE kind = 'check_in'", ()
        )
        assert [(row[0], row[1], row[2]) for row in rows] == [(None, None, None)] * 2
        # A check-in is not a message request, and the reply the user waits for is not "busy" with a check-in.
        assert [r.kind for r in (await storage.requests.list("acme", Listing(10))).items] == ["reply"]


STAGES = ("before", "start", "stored", "fenced")  # where in the delivery the user's message is sent


@pytest.mark.parametrize("realtime", [False, True])
async def test_check_in_race_with_the_users_message_never_sends_a_stale_one(target: Path | str, realtime: bool):
    """1,000 interleavings per engine and path: a check-in whose POST passed the fence was never ended by the user.

    The user's message starts before the delivery, with it, once the reply is stored (racing the fence) or once
    the fence is passed; the middle two are real races between two transactions on the conversation.
    """
    async with Storage.open(target, time.time) as storage:
        agent_id, webhook_id = await setup(storage)
        rng, sent, stale, dropped = random.Random(21), 0, 0, 0

        async def deliver(check_in_id: str, reached: dict[str, asyncio.Event]) -> bool:
            reached["start"].set()
            check_in = await storage.check_ins.get("acme", check_in_id)
            stored = await storage.queue.store_reply(check_in_id, "own_test", [ChatMessage("assistant", "hi")], 1e10)
            reached["stored"].set()
            is_sent = stored and await storage.check_ins.start_sending(check_in, "own_test")
            reached["fenced"].set()
            return is_sent

        async def user(conversation: str, reached: asyncio.Event) -> None:
            await reached.wait()
            if realtime:
                await storage.check_ins.user_wrote(agent_id, conversation)
            else:
                await user_writes(storage, agent_id, webhook_id, conversation)

        for batch in range(25):
            conversation_of = {}
            for n in range(40):
                fresh = new(agent_id, webhook_id, f"c{batch}-{n}", time.time())
                check_in_id = await storage.check_ins.create("acme", fresh, LAX, accepted=lambda c: c.id)
                conversation_of[check_in_id] = fresh.conversation_id
            claimed = await claim_all(storage)
            assert sorted(claimed) == sorted(conversation_of)
            stages = {check_in_id: {stage: asyncio.Event() for stage in STAGES} for check_in_id in claimed}
            chosen = {check_in_id: rng.choice(STAGES) for check_in_id in claimed}
            for events in stages.values():
                events["before"].set()
            # The user wrote before the dispatcher went on; the others write while it delivers.
            await asyncio.gather(
                *(user(conversation_of[i], stages[i]["before"]) for i in claimed if chosen[i] == "before")
            )
            results = await asyncio.gather(
                *(deliver(i, stages[i]) for i in claimed),
                *(user(conversation_of[i], stages[i][chosen[i]]) for i in claimed if chosen[i] != "before"),
            )
            for check_in_id, was_sent in zip(claimed, results, strict=False):
                found = await storage.check_ins.get("acme", check_in_id)
                if was_sent:
                    sent += 1
                    stale += found.status == "canceled"  # sent, though the user's message had ended it
                    # Its POST failed: it is moot now, so it ends instead of waiting for a retry.
                    await storage.queue.finish_attempt(check_in_id, "own_test", None, "retry", time.time(), None)
                    found = await storage.check_ins.get("acme", check_in_id)
                else:
                    dropped += 1
                assert (found.status, found.canceled_reason) == ("canceled", "user_wrote")
        assert stale == 0
        assert sent + dropped == 1000 and sent > 0 and dropped > 0
