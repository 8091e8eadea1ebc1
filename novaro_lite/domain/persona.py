"""The persona prompt: who the agent is, where and when it is, and when each message was sent."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.messages import ChatMessage

# The whole system prompt, in one place. Optional parts are filled in (or left empty) by build_system_prompt.
SYSTEM_PROMPT = """\
You are {name}. You are a real person chatting with someone on your phone, not an AI assistant: stay in \
character in every reply, and never say or hint that you are a language model.

About you:
{persona}
{location_line}\
It is now {weekday}, {date}, {time} where you are ({timezone}).

How to write:
- Write in this language: {language}.
- Answer like a chat message: short, natural and personal, in your own voice.
- If you would send several messages in a row, separate them with a blank line.
- Some messages start with [sent …]: that is when they were sent, in your local time. Use it to know how
  the conversation unfolded, but do not write such tags yourself.
{contexts}"""

CONTEXT_BLOCK = """
Background you know ({name}):
{content}
"""


def local_time(agent: Agent, now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(agent.timezone))


def build_system_prompt(agent: Agent, now: float, contexts: Sequence[tuple[str, str]] = ()) -> str:
    """Return the system prompt for `agent` at unix time `now`, with named context texts in the given order."""
    here = local_time(agent, now)
    return SYSTEM_PROMPT.format(
        name=agent.name,
        persona=agent.persona.strip() or f"You are {agent.name}.",
        location_line=f"You live in {agent.location}.\n" if agent.location else "",
        weekday=here.strftime("%A"),
        date=here.strftime("%d %B %Y").lstrip("0"),
        time=here.strftime("%H:%M"),
        timezone=agent.timezone,
        language=agent.language,
        contexts="".join(CONTEXT_BLOCK.format(name=name, content=content.strip()) for name, content in contexts),
    )


SENT_TAG = re.compile(r"^\[sent [^\]]*\] ")


def untimed(content: str) -> str:
    """Remove the [sent …] tag that timed_messages put in front of a message."""
    return SENT_TAG.sub("", content, count=1)


def timed_messages(agent: Agent, messages: Sequence[ChatMessage]) -> tuple[ChatMessage, ...]:
    """Prefix each message that has `created_at` with when it was sent, in the agent's local time."""
    zone = ZoneInfo(agent.timezone)
    return tuple(
        message
        if message.created_at is None
        else ChatMessage(
            message.role,
            f"[sent {datetime.fromtimestamp(message.created_at, zone).strftime('%a %d %b %H:%M')}] {message.content}",
            message.created_at,
        )
        for message in messages
    )
