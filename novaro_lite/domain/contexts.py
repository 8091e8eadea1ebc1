"""Contexts: named background text an agent always knows, or a request adds. Configuration, not chat history."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

NAME_MAX = 100
CONTENT_MAX = 50_000


@dataclasses.dataclass(frozen=True)
class Context:
    id: str
    account: str
    name: str
    content: str
    created_at: int
    updated_at: int


def merged_ids(*groups: Iterable[str]) -> tuple[str, ...]:
    """The agent's contexts first, then a request's own, each once, in a stable order."""
    return tuple(dict.fromkeys(context_id for group in groups for context_id in group))
