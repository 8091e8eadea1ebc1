"""Batch generation of agents: what the model is asked, and how its answer is read. Pure; no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

CHUNK = 10  # agents asked for in one model call, so each call stays small
MAX_ASKS = 3  # per chunk: the first ask and up to two re-asks for what was missing or invalid

SYSTEM_PROMPT = """\
You write personas for a chat product: believable people who will chat with users in character.
The user message is a JSON request with:
- "count": how many personas to write now;
- "description": what kind of people to create;
- "data": the requester's own material (text or JSON) that the personas must reflect, or null;
- "fixed": fields that are already decided for every persona (do not write them);
- "avoidNames": names that are taken;
- "problems": what was wrong with your previous answer, if anything.

Answer with JSON only: an array of exactly "count" objects, each with
"name" (a first name, optionally with a surname; 1-100 characters, all different),
"persona" (who they are, in the second person, 2-5 sentences: background, personality, how they write),
"location" ("City, Country"), "timezone" (the IANA time zone of that location, e.g. "Europe/Berlin"),
"language" (BCP 47 tag of the language they chat in, e.g. "en" or "pt-BR"),
"activeHours" ({"start": "HH:MM", "end": "HH:MM"}, their usual waking hours in local time).
"""

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def ask(
    count: int,
    description: str,
    data: Any,
    fixed: dict[str, Any],
    avoid_names: Sequence[str],
    problems: Sequence[str],
) -> str:
    """The user message of one model call."""
    request = {
        "count": count,
        "description": description,
        "data": data,
        "fixed": fixed,
        "avoidNames": list(avoid_names),
        "problems": list(problems),
    }
    return json.dumps(request, ensure_ascii=False)


def read_agents(text: str) -> list[Any]:
    """The list of persona objects in a model's answer: bare JSON, in a code fence, or inside prose.

    Raises ValueError when no JSON array (or object holding one) can be found.
    """
    candidates = [block.strip() for block in _FENCE.findall(text)] + [text.strip()]
    for candidate in candidates:
        for opening, closing in (("[", "]"), ("{", "}")):
            start, end = candidate.find(opening), candidate.rfind(closing)
            if start == -1 or end <= start:
                continue
            try:
                found = json.loads(candidate[start : end + 1])
            except (ValueError, RecursionError):  # nested past Python's recursion limit: no personas either
                continue
            if isinstance(found, dict):
                found = next((value for value in found.values() if isinstance(value, list)), None)
            if isinstance(found, list):
                return found
    raise ValueError("the answer held no JSON array of personas")
