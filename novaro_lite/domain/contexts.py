"""Contexts: named background text an agent always knows, or a request adds. Configuration, not chat history.

A context with `keys` is a keyword context: it enters the prompt only when one of its keys occurs in the
last `scan_depth` messages of the conversation (and, when `selective`, one of its `secondary_keys` too).
This is how Character Card lorebook entries work; it is just as usable without cards.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal

NAME_MAX = 100
CONTENT_MAX = 50_000
KEY_MAX = 100
MAX_KEYS = 50
DEFAULT_SCAN_DEPTH = 4
SCAN_DEPTH_MAX = 1000


@dataclasses.dataclass(frozen=True)
class Keywords:
    """When a keyword context applies: a key in the recent messages (and a secondary key, when selective)."""

    keys: tuple[str, ...] = ()
    case_sensitive: bool = False
    secondary_keys: tuple[str, ...] = ()
    selective: bool = False
    scan_depth: int = DEFAULT_SCAN_DEPTH


Trigger = Literal["always", "key", "key_and_secondary", "no_key", "no_secondary_key"]
APPLIES: frozenset[Trigger] = frozenset({"always", "key", "key_and_secondary"})


@dataclasses.dataclass(frozen=True)
class Context:
    id: str
    account: str
    name: str
    content: str
    created_at: int
    updated_at: int
    keywords: Keywords = Keywords()


def merged_ids(*groups: Iterable[str]) -> tuple[str, ...]:
    """The agent's contexts first, then a request's own, each once, in a stable order."""
    return tuple(dict.fromkeys(context_id for group in groups for context_id in group))


class Recent:
    """The texts of a conversation's recent messages as keys are looked for in them: Unicode-normalized (NFC:
    "é" typed precomposed or with a combining accent is one letter) and casefolded unless case-sensitive, each
    message once, joined into one text in which a key is looked for from where its scan depth begins."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._texts = texts
        self._joined: dict[bool, tuple[str, list[int]]] = {}

    def window(self, depth: int, case_sensitive: bool) -> tuple[str, int]:
        """The joined text, and where in it the last `depth` messages begin."""
        joined, starts = self._text(case_sensitive)
        return joined, starts[max(0, len(starts) - depth)] if starts else 0

    def _text(self, case_sensitive: bool) -> tuple[str, list[int]]:
        found = self._joined.get(case_sensitive)
        if found is None:
            folded = [_folded(text, case_sensitive) for text in self._texts]
            starts, at = [], 0
            for text in folded:
                starts.append(at)
                at += len(text) + 1
            # NUL never occurs in a text (domain/text.py), so no key matches across two messages.
            found = self._joined[case_sensitive] = ("\x00".join(folded), starts)
        return found


def _folded(text: str, case_sensitive: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    return text if case_sensitive else text.casefold()


def _occurs(keys: Sequence[str], recent: Recent, keywords: Keywords) -> bool:
    text, begin = recent.window(keywords.scan_depth, keywords.case_sensitive)
    return any(text.find(_folded(key, keywords.case_sensitive), begin) >= 0 for key in keys if key.strip())


def trigger(keywords: Keywords, recent: Sequence[str] | Recent) -> Trigger:
    """Why a context with these keywords applies, or not, to a conversation whose message texts are `recent`.

    A context without keys always applies; one whose keys are all blank never does. Keys match as plain
    substrings (casefolded unless case_sensitive), as the Character Card lorebook specs describe; with
    `selective`, one of the secondary keys must occur as well.
    """
    if not keywords.keys:
        return "always"
    window = recent if isinstance(recent, Recent) else Recent(recent)
    if not _occurs(keywords.keys, window, keywords):
        return "no_key"
    if keywords.selective and keywords.secondary_keys:
        return "key_and_secondary" if _occurs(keywords.secondary_keys, window, keywords) else "no_secondary_key"
    return "key"


def scan_cost(contexts: Iterable[Context], recent: Sequence[str]) -> int:
    """About how many characters triggers() compares: each key against its window's text, for a caller
    to judge whether to run it off the event loop (a big lorebook over a long chat takes seconds)."""
    last = [0]  # last[n]: the characters of the last n messages
    for text in reversed(recent):
        last.append(last[-1] + len(text))
    return sum(
        (len(context.keywords.keys) + len(context.keywords.secondary_keys))
        * last[min(context.keywords.scan_depth, len(recent))]
        for context in contexts
    )


def triggers(contexts: Iterable[Context], recent: Sequence[str]) -> list[Trigger]:
    """Why each context enters the prompt, or not, for a conversation whose message texts are `recent`."""
    window = Recent(recent)
    return [trigger(context.keywords, window) for context in contexts]
