"""Character Cards V1, V2 and V3 in: a card (JSON object) becomes agent fields, lorebook contexts and extras.

Specs: https://github.com/malfoyslastname/character-card-spec-v2 (V1, TavernAI's flat object with no `spec`,
and spec "chara_card_v2") and https://github.com/kwaroran/character-card-spec-v3 (spec "chara_card_v3").
What novaro-lite has no field for (unknown fields, `extensions`, V1 tools' legacy keys, disabled or regex
lorebook entries) is kept in the agent's `card_extras`, so that domain/card_export.py can give the card back
without loss. Cards in the wild are loose: an optional field holding "" (RisuAI writes `nickname: ""` for
every character without one) or null is not set.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from novaro_lite.domain import agents as agent_rules, contexts as context_rules, text as text_rule
from novaro_lite.domain.contexts import Keywords
from novaro_lite.domain.png import PNGError, text_chunks

SPEC_V2 = "chara_card_v2"
SPEC_V3 = "chara_card_v3"
MAX_CARD_BYTES = 5 * 1024 * 1024
MAX_BOOK_ENTRIES = agent_rules.MAX_CONTEXTS
REGEX_KEY = re.compile(r"/(.+)/([gimsuy]*)", re.DOTALL)  # a JavaScript regex literal, as the tools write one
REGEX_FREE = re.compile(r"[^^$()\[\]{}|\\*+?]*")  # no regex syntax but `.`: as a regex, the word itself
# Extensions SillyTavern writes on every lorebook entry it exports (with `use_regex: true`, keys plain words).
SILLYTAVERN_ENTRY = frozenset({"selectiveLogic", "exclude_recursion", "prevent_recursion", "display_index"})
NOT_LOGIC = (1, 2)  # SillyTavern's selectiveLogic NOT ALL and NOT ANY: a secondary key keeps the entry out

# Card `data` field → agent field (wire name, Agent attribute). description, personality and scenario
# become the persona.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "name", "name"),
    ("first_mes", "greeting", "greeting"),
    ("alternate_greetings", "alternateGreetings", "alternate_greetings"),
    ("mes_example", "exampleMessages", "example_messages"),
    ("system_prompt", "systemPrompt", "system_prompt"),
    ("post_history_instructions", "postHistoryInstructions", "post_history_instructions"),
    ("nickname", "nickname", "nickname"),
    ("tags", "tags", "tags"),
    ("creator", "creator", "creator"),
    ("creator_notes", "creatorNotes", "creator_notes"),
    ("character_version", "characterVersion", "character_version"),
)
PERSONA_PARTS = ("description", "personality", "scenario")
PERSONA_HEADINGS = {"personality": "Personality", "scenario": "Scenario"}
# Root fields that older (V1) readers take from the top level; exporters mirror them there.
V1_MIRRORS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
# Lorebook entry fields that a context holds (the rest of an entry is kept as it was).
ENTRY_MAPPED = ("content", "keys", "case_sensitive", "secondary_keys", "selective")


class CardError(ValueError):
    """A card that cannot be imported; `loc` is where in it (e.g. ["data", "character_book", "entries", 2])."""

    def __init__(self, loc: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = list(loc)
        self.message = message


@dataclasses.dataclass(frozen=True)
class LoreEntry:
    """A lorebook entry that becomes a context: always on (constant) or a keyword context."""

    name: str
    content: str
    keywords: Keywords
    order: float


@dataclasses.dataclass(frozen=True)
class CardImport:
    where: tuple[str, ...]  # where the card's fields are: ("data",), or () for a V1 card (at the top level)
    agent: dict[str, Any]  # agent fields by wire (camelCase) name, to be validated like POST /api/v1/agents
    entries: tuple[LoreEntry, ...]  # in the order the agent knows them (by insertion_order)
    extras: dict[str, Any]  # becomes Agent.card_extras; its book entries point at `entries` by index


def wire_to_card(wire_name: str) -> str:
    """The card field an agent field comes from, for error messages (persona: three fields together)."""
    if wire_name == "persona":
        return "description"
    return next((card for card, wire, _ in FIELDS if wire == wire_name), wire_name)


def card_from_png(data: bytes) -> tuple[Any, str]:
    """Return the card JSON carried by a PNG and the chunk it came from (`ccv3` preferred over `chara`)."""
    try:
        chunks = text_chunks(data)
    except PNGError as exc:
        raise CardError(["body"], f"the PNG is malformed: {exc}") from None
    keyword = next((key for key in ("ccv3", "chara") if key in chunks), None)
    if keyword is None:
        raise CardError(["body"], "the PNG has no 'ccv3' or 'chara' tEXt chunk, so it carries no character card")
    try:
        text = _base64(chunks[keyword]).decode("utf-8-sig")
    except (ValueError, UnicodeDecodeError):  # binascii.Error, and non-ASCII text, are ValueErrors
        raise CardError([keyword], f"the PNG's {keyword!r} chunk is not base64 of UTF-8 text") from None
    return parse_json(text.encode("utf-8"), keyword), keyword


def _base64(text: str) -> bytes:
    """Base64 read as the tools that read cards read it (Node's Buffer.from(text, "base64")): line breaks and
    spaces ignored, padding optional, the URL-safe alphabet too; anything else is not base64."""
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)


def parse_json(raw: bytes, where: str = "body") -> Any:
    """The card's JSON, held to the text rule (domain/text.py): a fault is an error at its place in the card."""
    try:
        doc = text_rule.loads(raw)
        fault = text_rule.fault_in(doc, [where])
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise CardError([where], f"the card is not valid JSON: {exc}") from None
    if fault is not None:
        raise CardError(*fault)
    return doc


def _object(value: Any, loc: Sequence[str | int]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CardError(loc, "must be a JSON object")
    return value


def _strings(value: Any, loc: Sequence[str | int]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CardError(loc, "must be a list of strings")
    return value


def _text(data: Mapping[str, Any], key: str, where: Sequence[str]) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CardError([*where, key], "must be a string")
    return value


def build_persona(parts: Mapping[str, str]) -> str:
    """The persona text: the description, then personality and scenario as sections."""
    sections = [parts["description"].strip()]
    sections += [f"{PERSONA_HEADINGS[key]}:\n{parts[key].strip()}" for key in PERSONA_HEADINGS if parts[key].strip()]
    return "\n\n".join(section for section in sections if section)


def _regex_syntax(entry: Mapping[str, Any]) -> bool:
    """Whether a key using regex syntax is a regex: under `use_regex`, as the V3 spec says, except in an entry
    SillyTavern wrote (it sets `use_regex` on every entry, and takes only keys written `/…/` as regexes)."""
    extensions = entry.get("extensions")
    from_sillytavern = isinstance(extensions, dict) and not SILLYTAVERN_ENTRY.isdisjoint(extensions)
    return entry.get("use_regex") is True and not from_sillytavern


def _is_regex(key: str, regex_syntax: bool) -> bool:
    """A key that is a regular expression, which novaro-lite does not run: one written `/…/flags` (how
    SillyTavern and RisuAI mark one), or, where `regex_syntax`, one using regex syntax (`^ship(s)?$`)."""
    return REGEX_KEY.fullmatch(key) is not None or (regex_syntax and not REGEX_FREE.fullmatch(key))


def _keys(value: Any, loc: list[str | int]) -> list[str]:
    """An entry's keys as text (a number is its text); blank ones left out, since no tool matches them."""
    items = value if value is not None else []
    if not isinstance(items, list) or not all(isinstance(item, str | int) and item is not True and item is not False
                                              for item in items):  # fmt: skip
        raise CardError(loc, "must be a list of strings")
    return [key for key in map(str, items) if key.strip()]


def _matchable(keys: list[str], regex_syntax: bool) -> tuple[str, ...] | None:
    """The keys novaro-lite matches (regular expressions left out, kept for the export), or None when they
    exceed what a context holds (a tool's alias list of hundreds): the entry is then kept, never matched."""
    found = tuple(key for key in keys if not _is_regex(key, regex_syntax))
    if len(found) > context_rules.MAX_KEYS or any(len(key) > context_rules.KEY_MAX for key in found):
        return None
    return found


def _scan_depth(book: Mapping[str, Any]) -> int:
    depth = book.get("scan_depth")
    if isinstance(depth, int) and not isinstance(depth, bool) and 1 <= depth <= context_rules.SCAN_DEPTH_MAX:
        return depth
    return context_rules.DEFAULT_SCAN_DEPTH


def _case_sensitive(entry: Mapping[str, Any]) -> bool:
    """The entry's own flag, else the one SillyTavern writes in its extensions (null there: not sensitive)."""
    extensions = entry.get("extensions")
    flag = entry.get("case_sensitive")
    if not isinstance(flag, bool) and isinstance(extensions, dict):
        flag = extensions.get("case_sensitive")
    return flag is True


def lore_keywords(entry: Mapping[str, Any], depth: int, loc: Sequence[str | int] = ()) -> Keywords | None:
    """The keywords a lorebook entry's fields make (none for a constant one), or None when nothing in it can
    match as written: no key but regular expressions, a selective entry whose secondary keys are all
    regexes, or more or longer keys than a context holds. Also how an export tells an entry left unchanged."""
    is_constant, regex_syntax = entry.get("constant") is True, _regex_syntax(entry)
    written = _keys(entry.get("keys"), [*loc, "keys"]), _keys(entry.get("secondary_keys"), [*loc, "secondary_keys"])
    keys, secondary = (_matchable(found, regex_syntax) for found in written)
    extensions = entry.get("extensions")
    if isinstance(extensions, dict) and extensions.get("selectiveLogic") in NOT_LOGIC:  # "and none of these"
        written, secondary = (written[0], []), ()
    is_selective = entry.get("selective") is True and bool(written[1])
    if is_constant:
        return Keywords((), _case_sensitive(entry), (), is_selective, depth)
    if not keys or secondary is None or (is_selective and not secondary):
        return None
    return Keywords(keys, _case_sensitive(entry), secondary, is_selective, depth)


def _entry(raw: Any, loc: list[str | int], card_name: str, depth: int) -> LoreEntry | None:
    """The context a lorebook entry becomes, or None when it stays inert: disabled, without content, or with
    nothing that can match as written (lore_keywords)."""
    entry = _object(raw, loc)
    index = int(loc[-1])
    if entry.get("enabled", True) is False or entry.get("content") is None:
        return None
    keywords = lore_keywords(entry, depth, loc)
    if keywords is None:
        return None  # kept with the agent, exported as it was
    content = entry["content"]
    if not isinstance(content, str):
        raise CardError([*loc, "content"], "must be a string")
    if len(content) > context_rules.CONTENT_MAX:
        raise CardError([*loc, "content"], f"is longer than {context_rules.CONTENT_MAX} characters")
    label = next(
        (entry[key].strip() for key in ("name", "comment") if isinstance(entry.get(key), str) and entry[key].strip()),
        "",
    )
    name = (label or f"{card_name}: lore {index + 1}").strip()[: context_rules.NAME_MAX]
    order = entry.get("insertion_order")
    return LoreEntry(name, content, keywords, order if isinstance(order, int | float) else 0)


def _book(value: Any, card_name: str, where: Sequence[str]) -> tuple[list[LoreEntry], dict[str, Any]]:
    loc: list[str | int] = [*where, "character_book", "entries"]
    book = _object(value, loc[:-1])
    raw_entries = book.get("entries", [])
    if not isinstance(raw_entries, list):
        raise CardError(loc, "must be a list")
    if len(raw_entries) > MAX_BOOK_ENTRIES:
        raise CardError(loc, f"has {len(raw_entries)} entries; at most {MAX_BOOK_ENTRIES}")
    depth = _scan_depth(book)
    entries: list[LoreEntry] = []
    kept: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_entries):
        entry = _entry(raw, [*loc, index], card_name, depth)
        if entry is None:
            kept.append({"raw": raw})
            continue
        kept.append({"entry": len(entries), "rest": {k: v for k, v in raw.items() if k != "content"}})
        entries.append(entry)
    fields = {key: item for key, item in book.items() if key != "entries"}
    return entries, {"fields": fields, "entries": kept}


def _loose(card_key: str, value: Any) -> Any:
    """A field as card tools read it when it is written loosely: a version number as text, tags as one
    comma-separated string."""
    if card_key == "character_version" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if card_key == "tags" and isinstance(value, str):
        return [tag.strip() for tag in value.split(",") if tag.strip()]
    return value


def _is_v1(card: Mapping[str, Any]) -> bool:
    """A V1 card (TavernAI's): no `spec` and no `data`, its fields at the top level, a name among them."""
    return "spec" not in card and "data" not in card and isinstance(card.get("name"), str)


def parse_card(doc: Any) -> CardImport:
    """Map a V1, V2 or V3 card to agent fields, lorebook contexts and extras; raise CardError naming what is wrong."""
    card = _object(doc, [])
    spec = card.get("spec")
    if _is_v1(card):  # its fields become `data`; the rest (avatar, chat, talkativeness…) is kept at the root
        where: tuple[str, ...] = ()
        data = {key: card[key] for key in V1_MIRRORS if key in card}
        card = {key: value for key, value in card.items() if key not in data} | {"data": data}
    elif spec in (SPEC_V2, SPEC_V3):
        where = ("data",)
        data = _object(card.get("data"), ["data"])
    else:
        raise CardError(["spec"], f"must be {SPEC_V2!r} or {SPEC_V3!r} (or absent, for a V1 card), not {spec!r}")
    agent: dict[str, Any] = {}
    for card_key, wire, _ in FIELDS:
        if data.get(card_key) not in (None, ""):  # types are checked by the agent schema; errors name the field
            agent[wire] = _loose(card_key, data[card_key])
    parts = {key: _text(data, key, where) for key in PERSONA_PARTS}
    agent["persona"] = build_persona(parts)
    name = data["name"] if isinstance(data.get("name"), str) else ""
    entries: list[LoreEntry] = []
    extras: dict[str, Any] = {
        "spec": spec,
        "specVersion": card.get("spec_version"),
        "root": {key: value for key, value in card.items() if key not in ("spec", "spec_version", "data")},
        "mirrors": [key for key in V1_MIRRORS if key in card and card[key] == data.get(key)] if where else list(data),
        "data": {
            key: value
            for key, value in data.items()
            if key not in {card_key for card_key, _, _ in FIELDS} | {*PERSONA_PARTS, "character_book"}
        },
        "persona": {**{key: data[key] for key in PERSONA_PARTS if key in data}, "text": agent["persona"]},
    }
    if data.get("character_book") is not None:
        entries, extras["book"] = _book(data["character_book"], name, where)
    order = sorted(range(len(entries)), key=lambda index: entries[index].order)
    for item in extras.get("book", {}).get("entries", []):
        if "entry" in item:
            item["entry"] = order.index(item["entry"])
    return CardImport(where, agent, tuple(entries[index] for index in order), extras)


def bind_contexts(extras: dict[str, Any], context_ids: Sequence[str]) -> dict[str, Any]:
    """Point the kept lorebook entries at the ids of the contexts made from them (in CardImport.entries order)."""
    book = extras.get("book")
    if book is None:
        return extras
    entries = [
        {"context": context_ids[item.pop("entry")], **item} if "entry" in item else item for item in book["entries"]
    ]
    return {**extras, "book": {**book, "entries": entries}}
