"""Resource ids: a type prefix plus a time-ordered, random ULID-style body, so ids sort by creation."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(prefix: str, now: float | None = None) -> str:
    """Return `prefix_` + 26 base32 characters: 48 bits of milliseconds, then 80 random bits."""
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def id_time(resource_id: str) -> float | None:
    """Return when an id from new_id() was made, in unix seconds; None if it is not one."""
    _, _, body = resource_id.rpartition("_")
    if len(body) != 26 or any(char not in _ALPHABET for char in body):
        return None
    value = 0
    for char in body:
        value = value * 32 + _ALPHABET.index(char)
    return (value >> 80) / 1000
