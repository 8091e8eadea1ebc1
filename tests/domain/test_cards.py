"""Card mapping without I/O: what parse_card refuses, and how exports follow changes made after an import."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.card_export import card_v2, card_v3
from novaro_lite.domain.cards import CardError, bind_contexts, parse_card, wire_to_card
from novaro_lite.domain.contexts import Context, Keywords
from tests.fakes.cards import v2_card


def card(**data: Any) -> dict[str, Any]:
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "A", **data}}


def entry(**fields: Any) -> dict[str, Any]:
    return {"keys": ["k"], "content": "c", "extensions": {}, "enabled": True, "insertion_order": 0, **fields}


@pytest.mark.parametrize(
    ("doc", "loc", "message"),
    [
        ([], [], "must be a JSON object"),
        (card(description=5), ["data", "description"], "must be a string"),
        (card(character_book={"entries": {}}), ["data", "character_book", "entries"], "must be a list"),
        (card(character_book={"entries": [entry()] * 201}), ["data", "character_book", "entries"], "at most 200"),
        (card(character_book={"entries": [entry(keys=["k"] * 51)]}), ["data", "character_book", "entries", 0, "keys"],
         "at most 50"),
        (card(character_book={"entries": [entry(keys=["k" * 101])]}), ["data", "character_book", "entries", 0, "keys"],
         "longer than 100"),
        (card(character_book={"entries": [entry(content="c" * 50_001)]}),
         ["data", "character_book", "entries", 0, "content"], "longer than 50000"),
        (card(character_book={"entries": ["text"]}), ["data", "character_book", "entries", 0], "JSON object"),
    ],
)  # fmt: skip
def test_parse_card_refuses_naming_the_place(doc, loc, message):
    with pytest.raises(CardError, match=message) as caught:
        parse_card(doc)
    assert caught.value.loc == loc


def test_null_texts_are_empty_and_a_bad_scan_depth_falls_back_to_the_default():
    imported = parse_card(card(description=None, character_book={"scan_depth": True, "entries": [entry()]}))
    assert imported.agent["persona"] == "" and imported.entries[0].keywords.scan_depth == 4
    assert bind_contexts({"spec": "x"}, []) == {"spec": "x"}
    assert wire_to_card("persona") == "description" and wire_to_card("greeting") == "first_mes"


def _imported() -> tuple[Agent, dict[str, Context]]:
    imported = parse_card(v2_card())
    contexts = [
        Context(f"ctx_{n}", "acme", e.name, e.content, 0, 0, e.keywords) for n, e in enumerate(imported.entries)
    ]
    ids = tuple(c.id for c in contexts)
    agent = Agent(
        name="Mira", id="agt_1", account="acme", created_at=0, updated_at=0, context_ids=ids,
        card_extras=bind_contexts(imported.extras, ids),
    )  # fmt: skip
    return agent, {c.id: c for c in contexts}


def test_export_follows_detached_added_and_unkeyed_contexts():
    agent, contexts = _imported()
    island, lamp, storm = agent.context_ids
    contexts[lamp] = dataclasses.replace(contexts[lamp], keywords=Keywords())  # its keys taken away
    contexts["ctx_new"] = Context("ctx_new", "acme", "New", "Fresh lore.", 0, 0, Keywords(("fresh",)))
    agent = dataclasses.replace(agent, context_ids=(island, lamp, "ctx_new"))  # storm detached
    entries = card_v2(agent, contexts)["data"]["character_book"]["entries"]
    names = [e.get("name") or e["content"][:12] for e in entries]
    assert names == ["Lamp", "The island h", "A disabled e", "New"]
    assert (entries[0]["keys"], entries[0]["constant"]) == ([], True)
    assert entries[3] | {"insertion_order": 0} == {
        "keys": ["fresh"], "content": "Fresh lore.", "extensions": {}, "enabled": True, "insertion_order": 0,
        "constant": False, "name": "New", "case_sensitive": False, "selective": False, "secondary_keys": [],
    }  # fmt: skip
    assert card_v3(agent, contexts)["data"]["character_book"]["entries"][3]["use_regex"] is False
