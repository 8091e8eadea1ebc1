"""Benchmark the request-head cap: uvicorn's plain httptools protocol against ours, in one run.

Run: .venv/bin/python bench/headers.py [--rounds 5]
Two servers of the same app on 127.0.0.1, one with http="httptools", one with BoundedHttpToolsProtocol
(novaro_lite/cli/http_server.py), each in its own process; each round runs both, in alternating order. The load is
`GET /api/v1/auth/verify` with a bearer token (the auth path every call takes) at concurrency 64.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtime import free_port, novaro, process, wait_until_up

from novaro_lite.benchmark.load import LoadResult, run_load

LAUNCH = """
import sys
import uvicorn
from novaro_lite.app import create_app
from novaro_lite.config.settings import load_settings
from novaro_lite.cli.http_server import BoundedHttpToolsProtocol

settings = load_settings(None, {}, data_dir=sys.argv[2])
http = BoundedHttpToolsProtocol if sys.argv[3] == "bounded" else "httptools"
uvicorn.run(create_app(settings), port=int(sys.argv[1]), log_level="warning", access_log=False, http=http)
"""
REQUESTS = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="novaro-bench-")) / "data"
    token = subprocess.run(
        novaro("token", "create", "--name", "bench", "--data-dir", str(data)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    ports = {"httptools": free_port(), "bounded": free_port()}
    servers = [process([sys.executable, "-c", LAUNCH, str(port), str(data), kind]) for kind, port in ports.items()]
    with servers[0], servers[1]:
        results: dict[str, list[LoadResult]] = {kind: [] for kind in ports}
        for port in ports.values():
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            asyncio.run(
                run_load(f"http://127.0.0.1:{port}/api/v1/auth/verify", None, headers, concurrency=8, requests=2000)
            )
        for round_number in range(options.rounds):
            order = list(ports.items())
            for kind, port in order if round_number % 2 == 0 else reversed(order):  # neither always goes first
                url = f"http://127.0.0.1:{port}/api/v1/auth/verify"
                result = asyncio.run(run_load(url, None, headers, concurrency=64, requests=REQUESTS))
                assert result.statuses == {200}, result.statuses
                results[kind].append(result)
    print(f"GET /api/v1/auth/verify, concurrency 64, {REQUESTS} requests a round, {options.rounds} rounds")
    rates = {kind: statistics.median(r.throughput for r in rs) for kind, rs in results.items()}
    for kind, rs in results.items():
        runs = ", ".join(f"{r.throughput:,.0f}" for r in rs)
        p50 = statistics.median(r.p50 for r in rs)
        print(f"{kind:>10}: median {rates[kind]:,.0f} req/s, p50 {p50:.2f} ms (runs {runs})")
    print(f"bounded / httptools: {rates['bounded'] / rates['httptools']:.3f}")


if __name__ == "__main__":
    main()
