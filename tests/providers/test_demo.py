from __future__ import annotations

from datetime import UTC, datetime

import pytest

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.messages import ChatMessage, Prompt
from novaro_lite.providers.demo import LABEL, DemoProvider, demo_reply


def prompt(hour: int, text: str = "hello") -> Prompt:
    agent = Agent(name="Kai", timezone="Asia/Tokyo", id="agt_1", account="a", created_at=0, updated_at=0)
    now = datetime(2026, 11, 25, hour, 0, tzinfo=UTC).timestamp()
    return Prompt("system words", (ChatMessage("user", text),), "demo", agent, now)


@pytest.mark.parametrize(
    ("utc_hour", "greeting"),
    [(0, "Good morning"), (4, "Good afternoon"), (10, "Good evening"), (15, "it's late")],
)
def test_demo_reply_greets_by_the_agents_local_time(utc_hour, greeting):
    text = demo_reply(prompt(utc_hour))
    assert greeting in text and "Kai here" in text and "in Asia/Tokyo" in text and LABEL in text


def test_demo_reply_quotes_long_messages_shortened():
    text = demo_reply(prompt(0, "word " * 40))
    assert '..."' in text and len(text) < 400


@pytest.mark.anyio
async def test_demo_stream_yields_the_same_text_then_usage():
    provider = DemoProvider("demo")
    items = [item async for item in provider.stream(prompt(3))]
    *deltas, usage = items
    assert "".join(str(delta) for delta in deltas) == (await provider.complete(prompt(3))).text
    assert usage.provider == "demo" and usage.completion_tokens > 0  # type: ignore[union-attr]
