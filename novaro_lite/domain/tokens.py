"""API tokens: minting, hashing and lifetimes. Only the SHA-256 of a token is ever stored."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets

TOKEN_PREFIX = "nl_"
TOKEN_BYTES = 32
DISPLAY_PREFIX_CHARS = 10  # "nl_" + 7 characters: enough to tell tokens apart in `token list`
MAX_RATE_LIMIT = 1_000_000  # requests a minute
MAX_LIFETIME_SECONDS = 3650 * 86400  # ten years; a token that should live longer should not expire at all
_DURATION = re.compile(r"^(\d{1,20})([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclasses.dataclass(frozen=True)
class Token:
    """A stored token's metadata; the secret itself is never kept."""

    id: str
    name: str
    account: str
    prefix: str
    created_at: int
    last_used_at: int | None
    expires_at: int | None
    revoked_at: int | None
    rate_limit: int | None = None  # requests a minute; None: the server's default


def mint_token() -> str:
    """Return a new bearer token: the `nl_` prefix and 32 random bytes, URL-safe base64."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_duration(text: str) -> int:
    """Parse `30d`, `12h`, `90m`, `45s` or `2w` into seconds, at most ten years; raise ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h, 90m or 2w")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > MAX_LIFETIME_SECONDS:
        raise ValueError(
            f"{text!r} is longer than {MAX_LIFETIME_SECONDS // 86400}d (ten years); leave the lifetime out for a"
            " token that never expires"
        )
    return seconds
