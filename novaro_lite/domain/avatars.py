"""An agent's picture (its avatar): which images are accepted, told by their first bytes, never by a header.

A card's picture comes in with it (a PNG card is its own picture; a CHARX brings its icon) or through the
API. It is kept with the agent, not with chats, and goes when the agent goes.
"""

from __future__ import annotations

import dataclasses
import hashlib

from novaro_lite.domain.png import SIGNATURE as PNG_SIGNATURE

DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # as large as a whole card may be: every PNG card's picture fits


@dataclasses.dataclass(frozen=True)
class Avatar:
    media_type: str
    data: bytes

    @property
    def etag(self) -> str:
        """A strong validator for HTTP caches: it changes whenever the bytes do."""
        return '"' + hashlib.sha256(self.data).hexdigest()[:32] + '"'


def media_type_of(data: bytes) -> str | None:
    """The image type the bytes are (PNG, JPEG or WebP), or None for anything else."""
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
