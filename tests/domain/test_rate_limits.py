from __future__ import annotations

from novaro_lite.domain.rate_limits import RateLimiter


def test_a_token_gets_its_limit_in_each_minute_then_is_refused_until_the_window_ends():
    limiter = RateLimiter()
    decisions = [limiter.hit("tok_a", 3, 1_000_040.0) for _ in range(4)]
    assert [d.is_allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].reset_seconds == 40  # 1_000_040 is 20 s into its minute
    assert limiter.hit("tok_b", 3, 1_000_040.0).is_allowed  # another token has its own count
    fresh = limiter.hit("tok_a", 3, 1_000_100.0)
    assert fresh.is_allowed and fresh.remaining == 2


def test_headers_follow_the_ietf_ratelimit_fields():
    decision = RateLimiter().hit("tok", 100, 59.5)
    assert decision.headers() == {"RateLimit-Policy": '"token";q=100;w=60', "RateLimit": '"token";r=99;t=1'}
