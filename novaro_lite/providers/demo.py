"""The offline demo model: deterministic, in character, clearly labelled. The default on a fresh install."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncGenerator

from novaro_lite.domain.check_ins import instructed_topic
from novaro_lite.domain.messages import Completion, Prompt, Usage
from novaro_lite.domain.persona import local_time, untimed
from novaro_lite.providers.demo_people import demo_agents

DEMO_MODEL = "demo"
LABEL = "(novaro-lite demo model: configure a provider for real replies.)"
REACTIONS = (
    "Ha, I was just thinking about that.",
    "Tell me more, I'm curious.",
    "Good question. Let me think about it for a second.",
    "Honestly? I'd love that.",
    "That made me smile.",
    "Hmm, I'm not so sure about that one.",
)


def _part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "Good morning"
    if 12 <= hour < 18:
        return "Good afternoon"
    if 18 <= hour < 23:
        return "Good evening"
    return "Hey, it's late"


def demo_check_in(prompt: Prompt) -> str:
    """Compose a check-in: the agent's name, its local time, the topic it was given, and how long it has been."""
    agent = prompt.agent
    assert agent is not None, "a check-in is always in an agent's voice"
    here = local_time(agent, prompt.now)
    topic = instructed_topic(prompt.system)
    about = f"I was just thinking: {topic}?" if topic else "Just checking in, how are you?"
    return (
        f"{_part_of_day(here.hour)}! {agent.name} here, writing first at {here:%H:%M} on {here:%A}. {about}\n\n{LABEL}"
    )


def demo_reply(prompt: Prompt) -> str:
    """Compose the reply from the agent's name, its local time and the user's last message."""
    agent = prompt.agent
    assert agent is not None, "a reply is always in an agent's voice"
    here = local_time(agent, prompt.now)
    last = next((untimed(m.content) for m in reversed(prompt.messages) if m.role == "user"), "")
    quoted = last if len(last) <= 80 else last[:77].rstrip() + "..."
    pick = int(hashlib.sha256(f"{agent.id}\n{last}".encode()).hexdigest(), 16) % len(REACTIONS)
    place = agent.location or agent.timezone
    return (
        f"{_part_of_day(here.hour)}! {agent.name} here. It's {here:%H:%M} on {here:%A} in {place}.\n\n"
        f'You said: "{quoted}". {REACTIONS[pick]}\n\n{LABEL}'
    )


class DemoProvider:
    default_model = DEMO_MODEL

    def __init__(self, name: str) -> None:
        self.name = name

    def _usage(self, prompt: Prompt, text: str) -> Usage:
        """Count words as tokens: there is no tokenizer offline, and the demo only needs plausible figures."""
        words = len(prompt.system.split()) + sum(len(m.content.split()) for m in prompt.messages)
        return Usage(self.name, prompt.model, words, len(text.split()))

    async def complete(self, prompt: Prompt) -> Completion:
        if prompt.purpose == "agents":
            text = demo_agents(json.loads(prompt.messages[-1].content))
        elif prompt.purpose == "check_in":
            text = demo_check_in(prompt)
        else:
            text = demo_reply(prompt)
        return Completion(text, self._usage(prompt, text))

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str | Usage]:
        text = demo_reply(prompt)
        words = text.split(" ")
        for index, word in enumerate(words):
            yield word if index == len(words) - 1 else word + " "
        yield self._usage(prompt, text)
