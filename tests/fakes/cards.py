"""Character Cards built from the two specs' field lists, with every kind of lorebook entry and some unknowns."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

from novaro_lite.domain.png import tiny_png


def v2_card() -> dict[str, Any]:
    """A Character Card V2 (malfoyslastname/character-card-spec-v2) as SillyTavern-like tools write it."""
    data = {
        "name": "Mira",
        "description": "{{char}} is a lighthouse keeper on a windy island.",
        "personality": "Dry humour, patient, curious about ships.",
        "scenario": "{{user}} arrives on the last ferry of the season.",
        "first_mes": "*waves from the pier* You made it before the storm, {{user}}!",
        "mes_example": "<START>\n{{user}}: Is it always this windy?\n{{char}}: Only on days ending in y.",
        "creator_notes": "Best with a slow-paced chat.",
        "system_prompt": "{{original}}\nNever break the fourth wall.",
        "post_history_instructions": "Keep replies under three sentences.",
        "alternate_greetings": ["The lamp is lit. Tea?", "Another visitor! Mind the gulls."],
        "tags": ["slice of life", "island"],
        "creator": "someone",
        "character_version": "1.2",
        "extensions": {"talkativeness": "0.5", "depth_prompt": {"prompt": "", "depth": 4}},
        "character_book": {
            "name": "Island lore",
            "scan_depth": 3,
            "token_budget": 500,
            "recursive_scanning": False,
            "extensions": {"tool": {"kept": True}},
            "entries": [
                {
                    "keys": ["lamp"],
                    "content": "The lamp is a first-order Fresnel lens from 1891.",
                    "extensions": {"weight": 2},
                    "enabled": True,
                    "insertion_order": 20,
                    "case_sensitive": False,
                    "name": "Lamp",
                    "priority": 10,
                    "id": 1,
                    "comment": "the light",
                    "selective": False,
                    "secondary_keys": [],
                    "constant": False,
                    "position": "after_char",
                },
                {
                    "keys": ["island"],
                    "content": "The island has forty sheep and one pub.",
                    "extensions": {},
                    "enabled": True,
                    "insertion_order": 10,
                    "constant": True,
                },
                {
                    "keys": ["Storm"],
                    "content": "Storms here come from the north-west.",
                    "extensions": {},
                    "enabled": True,
                    "insertion_order": 30,
                    "case_sensitive": True,
                    "selective": True,
                    "secondary_keys": ["ferry"],
                },
                {
                    "keys": ["secret"],
                    "content": "A disabled entry never reaches the prompt.",
                    "extensions": {},
                    "enabled": False,
                    "insertion_order": 40,
                },
            ],
        },
        "x_unknown_future_field": {"kept": [1, 2, 3]},
    }
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}


def v3_card() -> dict[str, Any]:
    """A Character Card V3 (kwaroran/character-card-spec-v3), with the fields V3 added."""
    card = v2_card()
    data = card["data"]
    data.pop("x_unknown_future_field")
    data |= {
        "nickname": "Mimi",
        "creator_notes_multilingual": {"de": "Am besten langsam."},
        "source": ["https://example.com/mira"],
        "group_only_greetings": ["Everyone inside, the storm is here!"],
        "creation_date": 1_700_000_000,
        "modification_date": 1_700_000_100,
        "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
    }
    for entry in data["character_book"]["entries"]:
        entry["use_regex"] = False
    data["character_book"]["entries"].append(
        {"keys": ["^ship(s)?$"], "content": "Regex entries stay inert.", "extensions": {}, "enabled": True,
         "insertion_order": 50, "use_regex": True}
    )  # fmt: skip
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def chunk(card: Any) -> str:
    return base64.b64encode(json.dumps(card).encode()).decode()


def card_png(texts: list[tuple[str, str]]) -> bytes:
    return tiny_png((200, 100, 50), texts, size=8)


def v1_card() -> dict[str, Any]:
    """A V1 card as TavernAI and early SillyTavern wrote it: no `spec`, the fields at the top level, `scenario`
    missing, and legacy keys of loose types (talkativeness and dates as strings, last_mes a list)."""
    return {
        "name": "Tomas",
        "description": "{{char}} runs the ferry between the island and the mainland.",
        "personality": "Gruff, punctual, secretly sentimental.",
        "first_mes": "*checks his watch* You're late, {{user}}.",
        "mes_example": "",
        "avatar": "none",
        "chat": "1671700000000",
        "create_date": "1671700000000",
        "last_mes": [",,,", ""],
        "talkativeness": "0.5",
        "fav": False,
    }


def risu_v3_card() -> dict[str, Any]:
    """A V3 card the way RisuAI writes one: `nickname: ""` for a character without one, dates in milliseconds
    and seconds, `character_book: null`, an empty `source`."""
    card = v3_card()
    card["data"] |= {
        "nickname": "",
        "creation_date": 1_761_917_762_720,
        "modification_date": 1_763_518_239,
        "source": [],
        "character_book": None,
        "creator_notes": "",
    }
    return card


def picture(rgb: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    """A small PNG standing for a character's face (no text chunks)."""
    return tiny_png(rgb, size=16)


def charx(card: Any, files: dict[str, bytes], *, jpeg_prefix: bytes = b"") -> bytes:
    """A CHARX: `card` as card.json and `files` beside it, deflated; after `jpeg_prefix` for RisuAI's CHARX-JPEG."""
    buffer = io.BytesIO()
    buffer.write(jpeg_prefix)
    with zipfile.ZipFile(buffer, "a" if jpeg_prefix else "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", json.dumps(card))
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def risu_charx_card(icons: list[tuple[str, str]]) -> dict[str, Any]:
    """A V3 card for a CHARX laid out as RisuAI writes it: `assets/<type>/image/N.png`, icons (name, uri)."""
    card = risu_v3_card()
    card["data"]["assets"] = [{"type": "background", "uri": "embeded://assets/background/image/2.png",
                               "name": "main", "ext": "png"}] + [
        {"type": "icon", "uri": uri, "name": name, "ext": "png"} for name, uri in icons
    ]  # fmt: skip
    return card
