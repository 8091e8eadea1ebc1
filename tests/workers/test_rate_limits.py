"""The workers' shared rate-limit table: one count per token across every process that maps the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from novaro_lite.workers import rate_limits
from novaro_lite.workers.rate_limits import SharedRateLimiter, create_table, open_limiter


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "rate-limits"
    create_table(path)
    return path


def test_two_workers_share_one_count_per_token_and_window(table: Path):
    with SharedRateLimiter(table) as first, SharedRateLimiter(table) as second:
        now = 1_000_040.0
        decisions = [limiter.hit("tok_a", 3, now) for limiter in (first, second, first, second)]
        assert [d.is_allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert decisions[-1].reset_seconds == 40
        assert second.hit("tok_b", 3, now).remaining == 2  # another token counts apart
        assert first.hit("tok_a", 3, now + 60).remaining == 2  # a new minute starts afresh


def test_a_full_neighbourhood_counts_in_the_process_rather_than_refusing(table: Path, monkeypatch):
    monkeypatch.setattr(rate_limits, "PROBES", 1)
    monkeypatch.setattr(rate_limits, "SLOTS", 1)
    with SharedRateLimiter(table) as limiter:
        assert limiter.hit("tok_a", 2, 120.0).remaining == 1  # takes the only slot
        assert limiter.hit("tok_b", 2, 120.0).remaining == 1  # no slot left: counted here
        assert limiter.hit("tok_b", 2, 120.0).remaining == 0
        assert limiter.hit("tok_a", 2, 120.0).remaining == 0
        assert limiter.hit("tok_b", 2, 180.0).remaining == 1  # tok_a's window ended: its slot is free again


@pytest.mark.anyio
async def test_open_limiter_is_the_process_own_without_a_table(table: Path):
    async with open_limiter(None) as alone, open_limiter(table) as shared:
        assert not isinstance(alone, SharedRateLimiter) and isinstance(shared, SharedRateLimiter)
        assert alone.hit("tok", 1, 0.0).is_allowed and not alone.hit("tok", 1, 0.0).is_allowed


def test_the_shared_table_counts_three_quarters_of_its_slots_in_tokens_without_falling_back(tmp_path: Path):
    rate_limits.create_table(tmp_path / "table")
    with rate_limits.SharedRateLimiter(tmp_path / "table") as limiter:
        for n in range(rate_limits.SLOTS * 3 // 4):
            limiter.hit(f"tok_{n}", 10, 120.0)
        assert not limiter._warned  # every one counted in the shared table, none per worker
