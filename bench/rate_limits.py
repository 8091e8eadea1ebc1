"""Benchmark: the cost of one rate-limit decision, counted in this process (RateLimiter) or in the shared
table the workers of `serve --workers N` map (SharedRateLimiter: flock, a slot read and write, unlock).

Run: .venv/bin/python bench/rate_limits.py [--rounds 5] [--calls 100000] [--tokens 1000]
Each round times `calls` decisions over `tokens` token ids for each limiter, in turn; medians of the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from novaro_lite.domain.rate_limits import Limiter, RateLimiter
from novaro_lite.workers.rate_limits import SharedRateLimiter, create_table


def per_call_us(limiter: Limiter, keys: list[str], calls: int) -> float:
    now = time.time()
    began = time.perf_counter()
    for index in range(calls):
        limiter.hit(keys[index % len(keys)], 1_000_000, now)
    return (time.perf_counter() - began) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--tokens", type=int, default=1000)
    options = parser.parse_args()
    keys = [f"tok_{index:08d}" for index in range(options.tokens)]
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "rate-limits"
        create_table(path)
        with SharedRateLimiter(path) as shared:
            local = RateLimiter()
            times: dict[str, list[float]] = {"in process": [], "shared table": []}
            for _ in range(options.rounds):
                times["in process"].append(per_call_us(local, keys, options.calls))
                times["shared table"].append(per_call_us(shared, keys, options.calls))
    print(f"rate-limit decision: {options.rounds} rounds of {options.calls} calls over {options.tokens} tokens")
    for name, values in times.items():
        print(f"{name:>13}: median {statistics.median(values):.2f} µs a call (min {min(values):.2f})")


if __name__ == "__main__":
    main()
