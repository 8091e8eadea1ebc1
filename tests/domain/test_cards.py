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
        (card(character_book={"entries": [entry()] * 1001}), ["data", "character_book", "entries"], "at most 1000"),
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


def test_a_lorebook_as_sillytavern_and_risuai_write_it_becomes_the_contexts_they_would_use():
    """SillyTavern writes `use_regex: true` on every entry it exports, its keys plain words, and marks a regex key
    `/…/`; RisuAI writes an empty key field as `[""]`. Each entry is used as those tools use it (found with real
    exported cards): plain words are matched, regular expressions (which novaro-lite does not run) are not."""
    book = {"scan_depth": None, "token_budget": None, "entries": [
        entry(keys=["Emilia", "half-elf"], use_regex=True, content="A silver-haired girl."),
        entry(keys=["/subaru|natsuki/i"], use_regex=True, content="Regex only: inert here."),
        entry(keys=["/return by death/i", "loop"], use_regex=True, content="Its plain key still matches."),
        entry(keys=["^ship(s)?$"], use_regex=True, content="A regex as V3 writes one: inert here."),
        entry(keys=[], constant=True, use_regex=True, content="Always in the prompt."),
        entry(keys=[""], content="An empty key field: never fires."),
        entry(keys=[" "], secondary_keys=[""], content="Blank: never fires."),
        entry(keys=[1999], content="A number as a key.", extensions={"case_sensitive": True}),
        entry(keys=["k"], content=None),
        entry(keys=["x" * 300 + "|y/"], content="Disabled: its keys are never read.", enabled=False),
        entry(keys=["/" + "a" * 300 + "/"], content="A long regex key is no reason to refuse the card."),
    ]}  # fmt: skip
    imported = parse_card(card(character_book=book))
    used = {e.content: e.keywords for e in imported.entries}
    assert used == {
        "A silver-haired girl.": Keywords(("Emilia", "half-elf"), scan_depth=4),
        "Its plain key still matches.": Keywords(("loop",), scan_depth=4),
        "Always in the prompt.": Keywords(scan_depth=4),
        "A number as a key.": Keywords(("1999",), case_sensitive=True, scan_depth=4),
    }
    agent = Agent(name="A", id="agt_1", account="acme", created_at=0, updated_at=0,
                  card_extras=bind_contexts(imported.extras, [f"ctx_{n}" for n in range(4)]))  # fmt: skip
    exported = card_v3(agent, {})["data"]["character_book"]["entries"]  # the contexts detached: the inert remain
    assert [e["content"] for e in exported] == [
        "Regex only: inert here.", "A regex as V3 writes one: inert here.", "An empty key field: never fires.",
        "Blank: never fires.", "",  # was null
        "Disabled: its keys are never read.", "A long regex key is no reason to refuse the card.",
    ]  # fmt: skip
    assert exported[0]["keys"] == ["/subaru|natsuki/i"] and exported[0]["use_regex"] is True  # as they were
    # With what the specs require of a book and its entries, which the card left out or wrote as null:
    assert "scan_depth" not in card_v3(agent, {})["data"]["character_book"]
    assert all({"keys", "content", "extensions", "enabled", "insertion_order"} <= set(e) for e in exported)


def test_loosely_written_fields_are_read_as_card_tools_read_them():
    imported = parse_card(card(character_version=2.1, tags="fantasy, rpg,, ", personality=None))
    assert (imported.agent["characterVersion"], imported.agent["tags"]) == ("2.1", ["fantasy", "rpg"])


def test_entries_read_as_their_tool_meant_them():
    """From a review: SillyTavern's plain keys with punctuation were dropped as regexes, its NOT logic applied
    backwards, a selective entry whose secondary keys were all regexes fired on its primary key alone, and one
    entry with more keys than a context holds refused the whole card (it was inert before, as a regex entry)."""
    tavern = {"selectiveLogic": 0, "exclude_recursion": False, "display_index": 0}
    book = {"entries": [
        entry(keys=["C++", "what?", "(nickname)", "rock|paper"], use_regex=True, extensions=tavern, content="ST words"),
        entry(keys=["/r/aww"], content="Not a regex: r is no flag."),
        entry(keys=["dragon"], secondary_keys=["baby"], selective=True, content="NOT ANY",
              extensions=tavern | {"selectiveLogic": 2}),
        entry(keys=["dragon"], secondary_keys=["/bab(y|ies)/i"], selective=True, content="Regex secondaries"),
        entry(keys=[f"alias {n}" for n in range(60)], content="Sixty aliases"),
        entry(keys=["x" * 101], content="A key past 100 characters"),
    ]}  # fmt: skip
    used = {e.content: e.keywords for e in parse_card(card(character_book=book)).entries}
    assert used == {
        "ST words": Keywords(("C++", "what?", "(nickname)", "rock|paper"), scan_depth=4),
        "Not a regex: r is no flag.": Keywords(("/r/aww",), scan_depth=4),
        "NOT ANY": Keywords(("dragon",), scan_depth=4),  # wider than written, never the opposite
    }


def test_entries_matched_differently_from_their_text_export_as_written():
    """The export wrote a context's keys back over the entry's: a regex key next to a word was lost, and a NOT ANY
    entry lost its secondary keys and `selective`. Left unchanged since the import, an entry goes back as it came."""
    tavern = {"selectiveLogic": 2, "exclude_recursion": False, "display_index": 0}
    written = [
        entry(keys=["/return by death/i", "loop"], use_regex=True, content="Loops", extensions=tavern | {"x": 1}),
        entry(keys=["dragon"], secondary_keys=["baby"], selective=True, content="NOT ANY", extensions=tavern),
    ]
    imported = parse_card(card(character_book={"entries": written}))
    contexts = [
        Context(f"ctx_{n}", "acme", e.name, e.content, 0, 0, e.keywords) for n, e in enumerate(imported.entries)
    ]
    ids = tuple(c.id for c in contexts)
    agent = Agent(name="A", id="agt_1", account="acme", created_at=0, updated_at=0, context_ids=ids,
                  card_extras=bind_contexts(imported.extras, ids))  # fmt: skip
    by_id = {c.id: c for c in contexts}
    assert card_v3(agent, by_id)["data"]["character_book"]["entries"] == [written[0], written[1] | {"use_regex": False}]
    by_id["ctx_0"] = dataclasses.replace(by_id["ctx_0"], keywords=Keywords(("time loop",)))  # edited: it wins
    assert card_v3(agent, by_id)["data"]["character_book"]["entries"][0]["keys"] == ["time loop"]
