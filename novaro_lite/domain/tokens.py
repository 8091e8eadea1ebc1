"""API tokens: minting, hashing, lifetimes and families. Only the SHA-256 of a token is ever stored.

A token minted through the API belongs to the family of the token that minted it: it records its lineage,
the ids and rate limits of every token above it, oldest first. A token made by the operator (the CLI, or
the first start) has none. The lineage decides what a token may revoke (itself and the tokens below it)
and which rate-limit budgets a call spends (its own and each ancestor's: a family shares its budget).
"""

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
_DURATION = re.compile(r"^([0-9]{1,20})([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclasses.dataclass(frozen=True)
class Ancestor:
    """A token above another in its family: its id and its own rate limit (None: the server's default)."""

    id: str
    rate_limit: int | None


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
    lineage: tuple[Ancestor, ...] = ()  # the tokens above this one, oldest first; () for the operator's

    @property
    def minted_by(self) -> str | None:
        """The token that minted this one through the API; None for a token the operator made."""
        return self.lineage[-1].id if self.lineage else None

    def child_lineage(self) -> tuple[Ancestor, ...]:
        """The lineage of a token this one mints."""
        return (*self.lineage, Ancestor(self.id, self.rate_limit))

    def is_above(self, other: Token) -> bool:
        """Whether `other` was minted by this token, or by one minted under it."""
        return any(ancestor.id == self.id for ancestor in other.lineage)

    def budgets(self, default_limit: int) -> list[tuple[str, int]]:
        """The rate-limit budgets a call with this token spends: (key, limit) for itself and each ancestor,
        those with no limit (0) left out."""
        return [
            (ancestor.id, limit) for ancestor in self.child_lineage() if (limit := ancestor.rate_limit or default_limit)
        ]


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
