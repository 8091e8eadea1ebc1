"""Character Cards out: an agent and its contexts become a V3 card (and the V2 card beside it in a PNG).

Fields kept from an imported card (domain/cards.py) come back as they were; what the agent has now wins
for every mapped field. Contexts become lorebook entries: keyword contexts keyed, the others constant.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from novaro_lite.domain import text as text_rule
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.avatars import Avatar
from novaro_lite.domain.cards import FIELDS, PERSONA_PARTS, SPEC_V2, SPEC_V3, CardError, lore_keywords
from novaro_lite.domain.contexts import Context
from novaro_lite.domain.png import MEDIA_TYPE, tiny_png, with_text

# The V3 spec's additions to `data` (lorebook entries gain `use_regex`), left out of a V2 card.
V3_ONLY = frozenset(
    {
        "nickname",
        "creator_notes_multilingual",
        "source",
        "group_only_greetings",
        "creation_date",
        "modification_date",
        "assets",
    }
)


# Optional fields of a lorebook and of its entries: the specs give them a type, so a null some tools write
# (SillyTavern's `scan_depth: null`) is left out rather than exported as it came.
BOOK_OPTIONAL = ("name", "description", "scan_depth", "token_budget", "recursive_scanning")
ENTRY_OPTIONAL = ("case_sensitive", "name", "priority", "id", "comment", "selective", "secondary_keys", "constant",
                  "position")  # fmt: skip


def _persona(agent: Agent, kept: Mapping[str, Any]) -> dict[str, Any]:
    if kept and kept.get("text") == agent.persona:  # as imported, each part a string as the specs require
        return {key: kept[key] if isinstance(kept.get(key), str) else "" for key in PERSONA_PARTS}
    return {"description": agent.persona, "personality": "", "scenario": ""}


def _complete(entry: Mapping[str, Any], position: int) -> dict[str, Any]:
    """A copy of a lorebook entry with what the specs require of one: a loose card's entry (no `extensions`,
    `content: null`…) comes back valid, its other fields as they were."""
    done = {key: value for key, value in entry.items() if not (key in ENTRY_OPTIONAL and value is None)}
    order = done.get("insertion_order")
    for key, valid, default in (
        ("keys", isinstance(done.get("keys"), list), []),
        ("content", isinstance(done.get("content"), str), ""),
        ("extensions", isinstance(done.get("extensions"), dict), {}),
        ("enabled", isinstance(done.get("enabled"), bool), True),
        ("insertion_order", isinstance(order, int | float) and not isinstance(order, bool), position),
    ):
        if not valid:
            done[key] = default
    return done


def _entry(context: Context, rest: Mapping[str, Any], position: int) -> dict[str, Any]:
    """A lorebook entry from a context; `rest` is what an imported entry had beyond its content."""
    words = context.keywords
    if not rest:
        return {
            "keys": list(words.keys),
            "content": context.content,
            "extensions": {},
            "enabled": True,
            "insertion_order": position,
            "constant": not words.keys,
            "name": context.name,
            "case_sensitive": words.case_sensitive,
            "selective": words.selective,
            "secondary_keys": list(words.secondary_keys),
        }
    entry = {**rest, "content": context.content}
    try:
        if lore_keywords(rest, words.scan_depth) == words:  # unchanged since the import: its keys as written,
            return entry  # regular expressions and SillyTavern's options included
    except CardError:
        pass
    if words.keys:
        entry["keys"] = list(words.keys)
        if "constant" in entry:
            entry["constant"] = False
        for key, value, default in (
            ("case_sensitive", words.case_sensitive, False),
            ("secondary_keys", list(words.secondary_keys), []),
            ("selective", words.selective, False),
        ):
            if key in rest or value != default:
                entry[key] = value
    elif entry.get("constant") is not True:  # an entry whose keys were taken away is always on now
        entry |= {"keys": [], "constant": True}
    return entry


def _book(agent: Agent, contexts: Mapping[str, Context], kept: Mapping[str, Any] | None) -> dict[str, Any] | None:
    attached = [contexts[context_id] for context_id in agent.context_ids if context_id in contexts]
    if kept is None and not attached:
        return None
    entries: list[dict[str, Any]] = []
    used: set[str] = set()
    for item in (kept or {}).get("entries", []):
        if "raw" in item:
            entries.append(item["raw"])
        elif item["context"] in contexts and item["context"] in agent.context_ids:
            entries.append(_entry(contexts[item["context"]], item["rest"], len(entries)))
            used.add(item["context"])
    entries += [_entry(context, {}, len(entries)) for context in attached if context.id not in used]
    fields = dict(kept["fields"]) if kept else {"name": agent.name}
    fields = {key: value for key, value in fields.items() if not (key in BOOK_OPTIONAL and value is None)}
    fields.setdefault("extensions", {})
    return {**fields, "entries": [_complete(entry, position) for position, entry in enumerate(entries)]}


def card_data(agent: Agent, contexts: Mapping[str, Context]) -> dict[str, Any]:
    """The card's `data` object, without the defaults that only one spec version requires."""
    extras = agent.card_extras or {}
    data: dict[str, Any] = dict(extras.get("data", {}))
    data |= _persona(agent, extras.get("persona", {}))
    for card_key, _, attribute in FIELDS:
        value = getattr(agent, attribute)
        if value is not None:
            data[card_key] = list(value) if isinstance(value, tuple) else value
    data.setdefault("extensions", {})
    book = _book(agent, contexts, extras.get("book"))
    if book is not None:
        data["character_book"] = book
    return data


def _card(agent: Agent, data: dict[str, Any], spec: str, version: str) -> dict[str, Any]:
    extras = agent.card_extras or {}
    root = dict(extras.get("root", {}))
    for key in extras.get("mirrors", []):  # top-level copies older readers use, kept in step with `data`
        root[key] = data.get(key, "")
    if extras.get("spec") == spec and isinstance(extras.get("specVersion"), str):
        version = extras["specVersion"]
    return {**root, "spec": spec, "spec_version": version, "data": data}


def card_v3(agent: Agent, contexts: Mapping[str, Context]) -> dict[str, Any]:
    """The agent as a Character Card V3 object."""
    data = card_data(agent, contexts)
    data.setdefault("group_only_greetings", [])
    if agent.card_extras is None:  # an imported card keeps its own dates (or their absence)
        data |= {"creation_date": agent.created_at, "modification_date": agent.updated_at}
    for entry in data.get("character_book", {}).get("entries", []):
        if isinstance(entry, dict):
            entry.setdefault("use_regex", False)
    return _card(agent, data, SPEC_V3, "3.0")


def card_v2(agent: Agent, contexts: Mapping[str, Context]) -> dict[str, Any]:
    """The agent as a Character Card V2 object (for readers that only know V2): V2's fields only."""
    data = {key: value for key, value in card_data(agent, contexts).items() if key not in V3_ONLY}
    if "character_book" in data:  # new entry objects: kept raw entries are shared with the agent's extras
        book = data["character_book"]
        entries = [
            {key: value for key, value in entry.items() if key != "use_regex"} if isinstance(entry, dict) else entry
            for entry in book["entries"]
        ]
        data["character_book"] = {**book, "entries": entries}
    return _card(agent, data, SPEC_V2, "2.0")


def _chunk(card: dict[str, Any]) -> str:
    return base64.b64encode(text_rule.dumps(card).encode("utf-8")).decode("ascii")


def card_png(agent: Agent, contexts: Mapping[str, Context], picture: Avatar | None = None) -> bytes:
    """The agent's picture, when it is a PNG, carrying the V2 card as `chara` and the V3 as `ccv3`; without one
    (or with a JPEG or WebP, which a PNG cannot hold without decoding it), a plain PNG of a colour drawn from
    the agent's id."""
    texts = [("chara", _chunk(card_v2(agent, contexts))), ("ccv3", _chunk(card_v3(agent, contexts)))]
    if picture is not None and picture.media_type == MEDIA_TYPE:
        return with_text(picture.data, texts)
    colour = hashlib.sha256(agent.id.encode()).digest()[:3]
    return tiny_png((colour[0], colour[1], colour[2]), texts)
