"""Contexts: named background text an agent always knows, or a request adds. Configuration, not chat history.

A context with `keys` is a keyword context: it enters the prompt only when one of its keys occurs in the
last `scan_depth` messages of the conversation (and, when `selective`, one of its `secondary_keys` too).
This is how Character Card lorebook entries work; it is just as usable without cards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

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


def _occurs(keys: Sequence[str], texts: Sequence[str], case_sensitive: bool) -> bool:
    keys = [key for key in keys if key.strip()]  # an empty key (a card may carry one) matches nothing
    if case_sensitive:
        return any(key in text for key in keys for text in texts)
    folded = [text.casefold() for text in texts]
    return any(key.casefold() in text for key in keys for text in folded)


def is_triggered(keywords: Keywords, recent: Sequence[str]) -> bool:
    """Whether a context with these keywords applies to a conversation whose message texts are `recent`.

    A context without keys always applies. Keys match as plain substrings (casefolded unless
    case_sensitive), as the Character Card lorebook specs describe.
    """
    if not any(key.strip() for key in keywords.keys):
        return True
    window = list(recent[-keywords.scan_depth :])
    if not _occurs(keywords.keys, window, keywords.case_sensitive):
        return False
    if keywords.selective and keywords.secondary_keys:
        return _occurs(keywords.secondary_keys, window, keywords.case_sensitive)
    return True


def applicable(contexts: Iterable[Context], recent: Sequence[str]) -> list[Context]:
    """The contexts that enter the prompt for a conversation whose message texts are `recent`, in order."""
    return [context for context in contexts if is_triggered(context.keywords, recent)]
