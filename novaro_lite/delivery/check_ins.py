"""Delivery's part in a check-in (docs/design.md, Check-ins): what is checked and said before the model writes.

A check-in goes through the same claim, attempt and record as a reply (attempt.py); this module adds the
one check made when it comes due (the conversation may have become active since it was scheduled) and the
instruction that makes the model write first. The fence before its POST is CheckInStore.start_sending.
"""

from __future__ import annotations

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.check_ins import check_in_instruction
from novaro_lite.domain.conversations import is_online
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.generation import Extras
from novaro_lite.services import Services


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
