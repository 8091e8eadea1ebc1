"""The Provider protocol: a persona prompt and messages in, reply text and usage out (whole or streamed)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from novaro_lite.domain.messages import Completion, Prompt, Usage


class Provider(Protocol):
    name: str
    default_model: str

    async def complete(self, prompt: Prompt) -> Completion:
        """Return the whole reply; raise ProviderError subclasses on upstream failure."""
        ...

    def stream(self, prompt: Prompt) -> AsyncGenerator[str | Usage]:
        """Yield text deltas as they arrive, then one Usage; raise ProviderError subclasses on failure."""
        ...
