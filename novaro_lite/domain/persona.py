"""The persona prompt: who the agent is, where and when it is, and when each message was sent."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from novaro_lite.domain.agents import Agent, time_zone
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
{group}{character}{contexts}"""

CONTEXT_BLOCK = """
Background you know ({name}):
{content}
"""

# Character fields (from a Character Card, or set directly), each a block when it is not empty.
NICKNAME_LINE = "People call you {nickname}.\n"
GREETING_BLOCK = """
How you open a new chat (match its tone; do not repeat it word for word):
{greeting}
"""
EXAMPLES_BLOCK = """
Examples of how you write ("<START>" separates example chats):
{examples}
"""
POST_HISTORY_BLOCK = """
Before you answer, keep this in mind:
{instructions}
"""
# In a group chat (domain/groups.py): who else is there, and how their messages look.
GROUP_BLOCK = """
You are in a group chat called "{group}", with the person who writes the user messages and:
{members}
Each message from someone else starts with their name and a colon. Write only your own message, as {name}, in \
your own voice: never write lines for the others, and do not put your name in front of what you write.
"""
MEMBER_LINE = "- {name}: {about}\n"
ABOUT_MAX = 160  # a member is described in one short line: the first sentence of its persona
ORIGINAL = "{{original}}"  # Character Card V2: where a card's system prompt puts the app's own prompt
USER_NAME = "User"
_MACROS = re.compile(r"\{\{(char|user)\}\}|<(bot|char|user)>", re.IGNORECASE)


def local_time(agent: Agent, now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC).astimezone(time_zone(agent.timezone))


def fill_macros(agent: Agent, text: str) -> str:
    """Replace the card macros {{char}}/<BOT> (the nickname, else the name) and {{user}}/<USER>."""
    char = agent.nickname or agent.name
    return _MACROS.sub(lambda match: USER_NAME if "user" in match.group(0).lower() else char, text)


@dataclasses.dataclass(frozen=True)
class GroupScene:
    """The group an agent answers in: its name, the other members (agent id, name, a line about them), and the
    agent's own group-only greetings (Character Card V3), used instead of its greeting."""

    name: str
    others: tuple[tuple[str, str, str], ...]
    greetings: tuple[str, ...] = ()

    def names(self) -> dict[str, str]:
        return {agent_id: name for agent_id, name, _ in self.others}


def about(agent: Agent) -> str:
    """One short line about an agent for the others in a group: its persona's first sentence."""
    text = " ".join(fill_macros(agent, agent.persona).split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] if text else f"{agent.name}."
    return first if len(first) <= ABOUT_MAX else first[: ABOUT_MAX - 3].rstrip() + "..."


def _group(agent: Agent, scene: GroupScene | None) -> str:
    if scene is None:
        return ""
    members = "".join(MEMBER_LINE.format(name=name, about=line) for _, name, line in scene.others)
    return GROUP_BLOCK.format(group=scene.name, members=members, name=agent.nickname or agent.name)


def _character(agent: Agent, is_new_chat: bool, scene: GroupScene | None = None) -> str:
    parts = []
    greeting = scene.greetings[0] if scene is not None and scene.greetings else agent.greeting
    if is_new_chat and greeting.strip():
        parts.append(GREETING_BLOCK.format(greeting=greeting.strip()))
    if agent.example_messages.strip():
        parts.append(EXAMPLES_BLOCK.format(examples=agent.example_messages.strip()))
    return fill_macros(agent, "".join(parts))


def build_system_prompt(
    agent: Agent,
    now: float,
    contexts: Sequence[tuple[str, str]] = (),
    *,
    is_new_chat: bool = False,
    caller_system: str = "",
    scene: GroupScene | None = None,
) -> str:
    """Return the system prompt for `agent` at unix time `now`, with named context texts in the given order.

    `is_new_chat` (no reply from the agent yet) adds the agent's greeting; `caller_system` (a client's own
    system message) comes after the persona prompt. An agent's `system_prompt` comes first, or wraps the
    built-in prompt where it says {{original}}; its `post_history_instructions` come last. In a group,
    `scene` names the group and describes the other members.
    """
    here = local_time(agent, now)
    prompt = SYSTEM_PROMPT.format(
        name=agent.name,
        persona=fill_macros(agent, agent.persona.strip()) or f"You are {agent.name}.",
        location_line=(f"You live in {agent.location}.\n" if agent.location else "")
        + (NICKNAME_LINE.format(nickname=agent.nickname) if agent.nickname else ""),
        weekday=here.strftime("%A"),
        date=here.strftime("%d %B %Y").lstrip("0"),
        time=here.strftime("%H:%M"),
        timezone=agent.timezone,
        language=agent.language,
        group=_group(agent, scene),
        character=_character(agent, is_new_chat, scene),
        contexts="".join(CONTEXT_BLOCK.format(name=name, content=content.strip()) for name, content in contexts),
    )
    own = fill_macros(agent, agent.system_prompt.strip())
    if own:
        prompt = own.replace(ORIGINAL, prompt) if ORIGINAL in own else f"{own}\n\n{prompt}"
    if caller_system.strip():
        prompt = f"{prompt.rstrip()}\n\n{caller_system.strip()}\n"
    if agent.post_history_instructions.strip():
        instructions = fill_macros(agent, agent.post_history_instructions.strip())
        prompt = prompt.rstrip() + "\n" + POST_HISTORY_BLOCK.format(instructions=instructions)
    return prompt


def attributed(agent: Agent, names: Mapping[str, str], messages: Sequence[ChatMessage]) -> tuple[ChatMessage, ...]:
    """A group's transcript as `agent` reads it: its own messages as its own, everyone else's as user messages
    that start with their writer's name (a member's from `names` by agent id, the user's as given)."""
    return tuple(
        message
        if message.role == "assistant" and message.agent_id == agent.id
        else ChatMessage("user", f"{_writer(message, names)}: {message.content}", message.created_at)
        for message in messages
    )


def _writer(message: ChatMessage, names: Mapping[str, str]) -> str:
    if message.role == "user":
        return message.name or USER_NAME
    return names.get(message.agent_id or "", "Someone")


def writer_names(agent: Agent) -> tuple[str, ...]:
    """The names a group transcript's lines of `agent` start with ("Name:"): its nickname, then its name."""
    return tuple(filter(None, (agent.nickname, agent.name)))


SENT_BODY_MAX = 60  # what timed_messages writes inside "[sent …]" is about 16 characters; longer is no tag
SENT_TAG = re.compile(rf"^\[sent [^\]]{{0,{SENT_BODY_MAX}}}\] ")
SENT_OPEN = "[sent "


def spoken(bubble: str, names: Sequence[str] = ()) -> str:
    """A reply's bubble as the agent says it: without the "[sent …]" tag the prompt puts on messages and, in a
    group (`names`: writer_names of the speaker), without the "Name:" a transcript's lines start with, should a
    model copy either."""
    text = untimed(bubble).lstrip()
    for name in names:
        if text.startswith(f"{name}:"):
            return text[len(name) + 1 :].lstrip()
    return text


def may_grow_unspoken(start: str, names: Sequence[str] = ()) -> bool:
    """Whether the start of a bubble (its leading whitespace dropped) may still grow into something `spoken`
    drops: a "[sent …]" tag not yet closed, or a writer's "Name:" not yet complete."""
    if SENT_OPEN.startswith(start):
        return True
    rest = start
    if start.startswith(SENT_OPEN):
        close = start.find("]", 0, len(SENT_OPEN) + SENT_BODY_MAX + 1)
        if close < 0:
            return len(start) <= len(SENT_OPEN) + SENT_BODY_MAX  # the tag may still close
        if close == len(start) - 1:
            return True
        if start[close + 1] == " ":
            rest = start[close + 2 :].lstrip()
    return any(f"{name}:".startswith(rest) and len(rest) <= len(name) for name in names)


def untimed(content: str) -> str:
    """Remove the [sent …] tag that timed_messages put in front of a message."""
    return SENT_TAG.sub("", content, count=1)


def timed_messages(agent: Agent, messages: Sequence[ChatMessage]) -> tuple[ChatMessage, ...]:
    """Prefix each user message that has `created_at` with when it was sent, in the agent's local time.

    The agent's own messages stay as written: a model copies a tag it sees on its own turns into its reply.
    """
    zone = time_zone(agent.timezone)
    return tuple(
        message
        if message.created_at is None or message.role != "user"
        else ChatMessage(
            message.role,
            f"[sent {datetime.fromtimestamp(message.created_at, zone).strftime('%a %d %b %H:%M')}] {message.content}",
            message.created_at,
        )
        for message in messages
    )
