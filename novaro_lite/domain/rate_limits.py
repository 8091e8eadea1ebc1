"""Per-token rate limits: one-minute windows, the counting rule, and the IETF RateLimit header values.

Pure: the caller passes the time. A Limiter belongs to one app (on Services), never to the module.
RateLimiter counts in this process's memory; the workers of one `serve --workers N` share their windows
through workers/rate_limits.py instead, so a token's limit holds for the whole server. Separate servers
(several machines) each count their own share: an operator running N of them behind a balancer sets the
limit to its share (documented in docs/operating.md).
The headers follow draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy: "token";q=<limit>;w=60` and
`RateLimit: "token";r=<remaining>;t=<seconds to reset>`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol

WINDOW_SECONDS = 60
POLICY = "token"


@dataclasses.dataclass(frozen=True)
class RateDecision:
    is_allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the current window ends

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"{POLICY}";q={self.limit};w={WINDOW_SECONDS}',
            "RateLimit": f'"{POLICY}";r={self.remaining};t={self.reset_seconds}',
        }


def decide(count: int, limit: int, now: float) -> RateDecision:
    """The decision for the `count`-th call (this one included) of the current window."""
    window = int(now // WINDOW_SECONDS)
    reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return RateDecision(count <= limit, limit, max(0, limit - count), reset)


class Limiter(Protocol):
    def hit(self, key: str, limit: int, now: float) -> RateDecision:
        """Count one call of `key` at `now` and decide it."""
        ...


def hit_all(limiter: Limiter, budgets: list[tuple[str, int]], now: float) -> RateDecision:
    """Count one call in each (key, limit) budget, a token's and its ancestors' (a family shares them): the
    call is allowed only if every budget allows it, and the tightest budget is the one reported."""
    decisions = [limiter.hit(key, limit, now) for key, limit in budgets]
    return min(decisions, key=lambda decision: (decision.is_allowed, decision.remaining))


class RateLimiter:
    """Count calls per key in fixed one-minute windows; every call counts, refused ones included."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window number, calls in it)

    def hit(self, key: str, limit: int, now: float) -> RateDecision:
        window = int(now // WINDOW_SECONDS)
        start, count = self._windows.get(key, (window, 0))
        count = count + 1 if start == window else 1
        self._windows[key] = (window, count)
        return decide(count, limit, now)
