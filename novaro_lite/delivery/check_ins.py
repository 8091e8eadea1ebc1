"""Delivery's part in a check-in (docs/design.md, Check-ins): what is checked and said before the model writes,
and the recurring rules' next check-ins.

A check-in goes through the same claim, attempt and record as a reply (attempt.py); this module adds the
one check made when it comes due (the conversation may have become active since it was scheduled) and the
instruction that makes the model write first. The fence before its POST is CheckInStore.start_sending.
`yield_due`, run every minute by the scheduler, turns each recurring rule's next occurrence into a check-in.
"""

from __future__ import annotations

import random

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.arrival import plan_check_in
from novaro_lite.domain.check_in_rules import NO_MOMENT, YIELD_LEAD_SECONDS, CheckInRule, next_window
from novaro_lite.domain.check_ins import Moment, NoMomentError, check_in_instruction, draw_moment
from novaro_lite.domain.conversations import is_online
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.errors import NotFoundError
from novaro_lite.generation import Extras
from novaro_lite.services import Services
from novaro_lite.storage.check_ins import NewCheckIn


async def prepare(services: Services, owner: str, check_in: MessageRequest, agent: Agent) -> Extras | None:
    """The extras that make the model write the check-in, or None if it was dropped: the agent is online in the
    conversation now ([check_ins] not_while_active), so a message "out of the blue" would be out of place."""
    now = services.clock()
    assert check_in.conversation_id is not None, "a check-in always has its conversation"
    if services.settings.check_ins.not_while_active:
        online_until = await services.storage.conversations.online_until(agent.id, check_in.conversation_id)
        if is_online(agent, online_until, now):
            if await services.storage.check_ins.end_as_active(check_in, owner):
                services.metrics.check_in("canceled", "conversation_active")
            return None
    instruction = check_in_instruction(agent, now, check_in.messages or (), check_in.topic)
    return Extras(system=instruction, is_check_in=True)


async def yield_due(services: Services, rng: random.Random) -> int:
    """Yield the next check-in of every rule whose window opens within YIELD_LEAD_SECONDS and that has none
    waiting; return how many check-ins were stored."""
    stored = 0
    for rule in await services.storage.check_in_rules.due(services.clock() + YIELD_LEAD_SECONDS):
        stored += await yield_next(services, rule, rng)
    return stored


async def yield_next(services: Services, rule: CheckInRule, rng: random.Random) -> int:
    """Draw and store the check-in of the rule's next occurrence, or say why there is none; move the rule on.

    The moment is drawn in the occurrence's window as any check-in's is (awake, outside quiet hours); the rules
    against spam then decide, so an unanswered streak skips occurrences (the rule is paused) until the user
    writes again. Return 1 if a check-in was stored, else 0.
    """
    store = services.storage.check_in_rules
    try:
        agent = await services.storage.agents.get(rule.account, rule.agent_id)
        await services.storage.webhooks.get(rule.account, rule.webhook_id)
    except NotFoundError:  # its agent or its webhook is gone (deleted before it ended its rules, say)
        await store.end(rule.id)
        return 0
    window = next_window(agent.timezone, rule.recurrence, rule.next_after)
    if window is None:
        await store.yield_check_in(rule, None, None, None, services.settings.check_ins.rules)
        return 0
    now, (start, end) = services.clock(), window
    new, skipped = None, None
    try:
        drawn = draw_moment(agent, Moment(max(start, now), end, rule.moment_zone, rule.quiet_hours), rng)
        plan = plan_check_in(agent, now, drawn, time_scale=services.settings.delivery.time_scale)
        moment = Moment(start, end, rule.moment_zone, rule.quiet_hours)
        new = NewCheckIn(
            rule.agent_id, rule.webhook_id, rule.conversation_id, rule.reference, (), rule.topic, moment, plan, rule.id
        )
    except NoMomentError:  # no allowed moment in it (or it has already passed: the server was down)
        skipped = NO_MOMENT
    following = next_window(agent.timezone, rule.recurrence, end)
    stored, skipped = await store.yield_check_in(
        rule, new, skipped, following[0] if following else None, services.settings.check_ins.rules
    )
    if stored is not None and new is not None:
        services.metrics.check_in("scheduled")
        services.wake(new.plan.read_at)
        return 1
    if skipped is not None and skipped != NO_MOMENT:
        services.metrics.check_in("refused", skipped)
    return 0
