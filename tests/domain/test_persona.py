from __future__ import annotations

from datetime import UTC, datetime

import pytest

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.persona import build_system_prompt, timed_messages


def agent(timezone: str, **fields) -> Agent:
    values = {"name": "Lena", "persona": "A baker.", "location": "Somewhere", "timezone": timezone, "language": "de"}
    return Agent(**values | fields, id="agt_1", account="acme", created_at=0, updated_at=0)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_persona_prompt_names_the_agent_and_its_world():
    prompt = build_system_prompt(agent("Europe/Berlin"), at("2026-11-25T12:00:00"))
    assert prompt.startswith("You are Lena.")
    assert "A baker." in prompt and "You live in Somewhere." in prompt
    assert "this language: de" in prompt
    assert "Wednesday, 25 November 2026, 13:00 where you are (Europe/Berlin)" in prompt


@pytest.mark.parametrize(
    ("timezone", "utc", "local"),
    [
        ("Europe/Berlin", "2026-03-29T00:30:00", "Sunday, 29 March 2026, 01:30"),  # still CET (+1)
        ("Europe/Berlin", "2026-03-29T01:30:00", "Sunday, 29 March 2026, 03:30"),  # CEST (+2) after the jump
        ("America/New_York", "2026-11-01T05:30:00", "Sunday, 1 November 2026, 01:30"),  # EDT, first 01:30
        ("America/New_York", "2026-11-01T06:30:00", "Sunday, 1 November 2026, 01:30"),  # EST, 01:30 again
        ("Asia/Kolkata", "2026-11-25T20:00:00", "Thursday, 26 November 2026, 01:30"),  # +05:30, next day
        ("Pacific/Kiritimati", "2026-12-31T12:00:00", "Friday, 1 January 2027, 02:00"),  # +14, next year
        ("America/Los_Angeles", "2026-01-01T03:00:00", "Wednesday, 31 December 2025, 19:00"),  # previous year
    ],
)
def test_persona_prompt_uses_the_agents_local_time_across_zones_and_dst(timezone, utc, local):
    assert f"{local} where you are ({timezone})" in build_system_prompt(agent(timezone), at(utc))


def test_persona_prompt_without_location_or_persona_still_reads_well():
    prompt = build_system_prompt(agent("UTC", location=None, persona=""), at("2026-11-25T12:00:00"))
    assert "You live in" not in prompt
    assert "About you:\nYou are Lena.\n" in prompt


def test_persona_prompt_includes_contexts_in_the_given_order_under_their_names():
    prompt = build_system_prompt(agent("UTC"), 0, [("Menu", "Bread and cake."), ("Shop hours", "7 to 19.")])
    assert prompt.index("Background you know (Menu):\nBread and cake.") < prompt.index("(Shop hours):\n7 to 19.")


def test_timed_messages_show_when_each_was_sent_in_local_time_across_dst():
    lena = agent("Europe/Berlin")
    messages = [
        ChatMessage("user", "before the jump", int(at("2026-03-29T00:59:00"))),
        ChatMessage("assistant", "after the jump", int(at("2026-03-29T01:01:00"))),
        ChatMessage("user", "no time"),
    ]
    shown = timed_messages(lena, messages)
    assert shown[0].content == "[sent Sun 29 Mar 01:59] before the jump"
    assert shown[2] == messages[2]
    # The agent's own message is not tagged: models copied the tag into their replies.
    assert shown[1] == messages[1]
    after = timed_messages(lena, [ChatMessage("user", "after the jump", int(at("2026-03-29T01:01:00")))])
    assert after[0].content == "[sent Sun 29 Mar 03:01] after the jump"


def test_character_fields_shape_the_prompt_in_their_places():
    lena = agent(
        "UTC",
        nickname="Leni",
        persona="{{char}} bakes for <USER>.",
        greeting="Moin {{user}}!",
        example_messages="<START>\n{{user}}: Bread?\n{{char}}: Always.",
        system_prompt="Stay warm.\n{{original}}\nNo emojis.",
        post_history_instructions="Answer in one line.",
    )
    prompt = build_system_prompt(lena, 0, [("Menu", "{{char}}'s rye")], is_new_chat=True, caller_system="From app.")
    assert prompt.startswith("Stay warm.\nYou are Lena.") and "People call you Leni." in prompt
    assert "Leni bakes for User." in prompt and "Moin User!" in prompt and "Leni: Always." in prompt
    order = [prompt.index(part) for part in ("Moin User!", "Leni: Always.", "No emojis.", "From app.", "one line.")]
    assert order == sorted(order) and prompt.rstrip().endswith("Answer in one line.")
    assert "Moin" not in build_system_prompt(lena, 0, is_new_chat=False)


def test_a_system_prompt_without_original_goes_first_and_empty_fields_add_nothing():
    plain = build_system_prompt(agent("UTC"), 0)
    assert build_system_prompt(agent("UTC"), 0, is_new_chat=True) == plain  # no greeting, no examples
    assert build_system_prompt(agent("UTC", system_prompt="Be brief."), 0) == f"Be brief.\n\n{plain}"
