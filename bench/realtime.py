"""Benchmark: POST /api/v1/messages through novaro-lite to a zero-latency fake provider, beside the same load
sent straight to that provider, so novaro-lite's overhead is a difference measured in the same run; and the
same conversation through the OpenAI-compatible POST /v1/chat/completions, whose cost is a ratio to /api/v1.

Run: .venv/bin/python bench/realtime.py [--rounds 3] [--log-level info] [--metrics] [--baseline DIR]
    [--workers N] [--concurrency 16 64] [--sequential] [--floor]
Prints one table per concurrency with medians over the rounds, and the load average before and after.
Everything runs on 127.0.0.1.
--workers N also serves this checkout as `serve --workers N` (its own data directory and token) beside the
plain one-process server; the rounds interleave them and the table gives their req/s and p50 ratios.
--baseline DIR also serves the checkout in DIR (e.g. `git worktree add /tmp/base main`) beside this one,
with the same config, and the rounds interleave the two: a before/after in one run. --metrics turns
[metrics] on in this checkout's server (not the baseline's, which may not have it).
With --workers the table also says what this machine allows: the cores the servers could have had while two
workers ran (all cores less the CPU the load generator and the fake provider took, read from /proc), over
the cores one process used; that is the most two workers can serve relative to one at the same CPU cost
per request ("ceiling").
--floor also serves bench/floor.py, a bare ASGI app on uvicorn that forwards the conversation to the same
fake provider through aiohttp: the least this stack adds, so novaro-lite's overhead less the floor's is what
its own work costs.
--sequential measures overhead the way gateway benchmarks report it: one connection, 15 warm-ups, then
7 rounds of 25 requests to every target in turn, the median of the round medians (`novaro-lite bench`
measures its overhead the same way).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from novaro_lite.benchmark.load import LoadResult, run_load

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = (1, 16, 64)
REQUESTS = {1: 1500, 16: 6000, 64: 9600}
WARMUP = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        args, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and every process under it so far, from /proc (Linux)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # it ended meanwhile
    return total


@dataclasses.dataclass
class CoreUse:
    """Cores a round's server and the rest (load generator, fake provider) used: CPU seconds per wall second."""

    server: float
    others: float


def core_use(run: Callable[[], LoadResult], server: int | None, fake: int) -> tuple[LoadResult, CoreUse]:
    """Run one round; with `server` (a pid), also what it and the rest took (generator, fake provider)."""
    servers = 0.0 if server is None else cpu_seconds(server)
    began, mine, fakes = time.perf_counter(), time.process_time(), cpu_seconds(fake)
    result = run()
    wall = time.perf_counter() - began
    others = time.process_time() - mine + cpu_seconds(fake) - fakes
    served = 0.0 if server is None else cpu_seconds(server) - servers
    return result, CoreUse(served / wall, others / wall)


def load(url: str, body: bytes, headers: dict[str, str], concurrency: int, count: int) -> LoadResult:
    return asyncio.run(run_load(url, body, headers, concurrency=concurrency, requests=count))


def novaro(*args: str) -> list[str]:
    return [sys.executable, "-m", "novaro_lite", *args]


def summarize(results: list[LoadResult]) -> tuple[float, float, float]:
    return (
        statistics.median(r.p50 for r in results),
        statistics.median(r.percentile(99) for r in results),
        statistics.median(r.throughput for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--log-level", default="info", help="novaro-lite's log level (info writes an access log)")
    parser.add_argument("--metrics", action="store_true", help="turn [metrics] on in this checkout's server")
    parser.add_argument("--baseline", type=Path, help="a checkout of another revision to serve beside this one")
    parser.add_argument("--workers", type=int, help="also serve this checkout with `serve --workers N`")
    parser.add_argument("--concurrency", type=int, nargs="+", choices=CONCURRENCY, default=CONCURRENCY)
    parser.add_argument("--sequential", action="store_true", help="overhead only: 7 rounds of 25, one connection")
    parser.add_argument("--floor", action="store_true", help="also serve bench/floor.py, the stack's bare minimum")
    options = parser.parse_args()
    requests, warmup = REQUESTS, (4, WARMUP)
    if options.sequential:
        options.concurrency, options.rounds, requests, warmup = (1,), 7, {1: 25}, (1, 15)

    work = Path(tempfile.mkdtemp(prefix="novaro-bench-"))
    fake_port, server_port, base_port, workers_port = free_port(), free_port(), free_port(), free_port()
    floor_port = free_port()
    fake_url, server_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{server_port}"
    base_url = f"http://127.0.0.1:{base_port}"
    common = (
        f'log_level = "{options.log_level}"\n[defaults]\nprovider = "fake"\n'
        f'[providers.fake]\nkind = "openai"\nbase_url = "{fake_url}/v1"\nmodel = "bench"\n'
    )
    config, base_config = work / "novaro.toml", work / "baseline.toml"
    config.write_text(
        common + ('[metrics]\nenabled = true\ntoken_env = "BENCH_METRICS_TOKEN"\n' if options.metrics else "")
    )
    base_config.write_text(common)
    env = {"BENCH_METRICS_TOKEN": "bench-metrics-token-0123"}
    base_env = {"PYTHONPATH": str(options.baseline)} if options.baseline else {}
    data = ["--config", str(config), "--data-dir", str(work / "data")]
    base_data = ["--config", str(base_config), "--data-dir", str(work / "base")]
    workers_data = ["--config", str(config), "--data-dir", str(work / "workers")]
    workers_name = f"workers={options.workers}"

    def mint(args: list[str], extra_env: dict[str, str], cwd: Path | None = None) -> dict[str, str]:
        token = subprocess.run(
            novaro("token", "create", "--name", "bench", *args),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **extra_env},
            cwd=cwd,
        ).stdout.strip()
        return {"Authorization": f"Bearer {token}"}

    headers = mint(data, env)
    # The baseline runs from its own directory: `python -m` puts the working directory first on sys.path,
    # ahead of this checkout's editable install.
    base_headers = mint(base_data, base_env, options.baseline) if options.baseline else {}
    workers_headers = mint(workers_data, env) if options.workers else {}
    load_before = os.getloadavg()
    with (
        process([sys.executable, str(ROOT / "bench" / "fake_llm.py"), str(fake_port)]) as fake,
        process(novaro("serve", "--port", str(server_port), *data), env) as server,
        process(novaro("serve", "--port", str(base_port), *base_data), base_env, options.baseline)
        if options.baseline
        else nullcontext(),
        process(novaro("serve", "--port", str(workers_port), "--workers", str(options.workers), *workers_data), env)
        if options.workers
        else nullcontext() as workers,
        process([sys.executable, str(ROOT / "bench" / "floor.py"), str(floor_port), f"{fake_url}/v1/chat/completions"])
        if options.floor
        else nullcontext(),
    ):
        wait_until_up(fake_url)
        servers = {"novaro-lite": (server_url, headers)}
        if options.baseline:
            servers["baseline"] = (base_url, base_headers)
        if options.workers:
            servers[workers_name] = (f"http://127.0.0.1:{workers_port}", workers_headers)
        targets: dict[str, tuple[str, bytes, dict[str, str]]] = {}
        for name, (url, auth) in servers.items():
            wait_until_up(f"{url}/healthz")
            agent = httpx.post(
                f"{url}/api/v1/agents",
                headers=auth,
                json={"name": "Bench", "persona": "Benchmarks things.", "timezone": "Europe/Berlin"},
            ).json()
            body = json.dumps({"agentId": agent["id"], "messages": [{"role": "user", "content": "Dinner at 8?"}]})
            targets[name] = (f"{url}/api/v1/messages", body.encode(), auth)
            if name in ("novaro-lite", "baseline"):
                openai_body = json.dumps(
                    {"model": agent["id"], "messages": [{"role": "user", "content": "Dinner at 8?"}]}
                )
                openai_name = "/v1 (openai)" if name == "novaro-lite" else "base /v1"
                targets[openai_name] = (f"{url}/v1/chat/completions", openai_body.encode(), auth)
        direct_body = json.dumps(
            {
                "model": "bench",
                "messages": [
                    {"role": "system", "content": "You are Bench. " * 40},
                    {"role": "user", "content": "Dinner at 8?"},
                ],
            }
        )
        if options.floor:
            floor_url = f"http://127.0.0.1:{floor_port}"
            wait_until_up(floor_url)
            floor_body = json.dumps({"messages": [{"role": "user", "content": "Dinner at 8?"}]})
            targets["floor"] = (f"{floor_url}/chat", floor_body.encode(), {})
        targets["provider only"] = (f"{fake_url}/v1/chat/completions", direct_body.encode(), {})
        for url, payload, extra in targets.values():
            load(url, payload, extra, *warmup)
        print(
            f"realtime benchmark: {options.rounds} rounds, medians; log_level={options.log_level}, "
            f"metrics={'on' if options.metrics else 'off'}, baseline={options.baseline or 'none'}, "
            f"workers={options.workers or 'none'}; load average before: {' '.join(f'{x:.2f}' for x in load_before)}"
        )
        print(f"{'concurrency':>11} {'target':>14} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
        for concurrency in options.concurrency:
            results: dict[str, list[LoadResult]] = {name: [] for name in targets}
            cores: dict[str, list[CoreUse]] = {name: [] for name in targets}
            pids = {"novaro-lite": server.pid, **({workers_name: workers.pid} if workers else {})}
            for _ in range(options.rounds):
                for name, (url, payload, extra) in targets.items():
                    run = functools.partial(load, url, payload, extra, concurrency, requests[concurrency])
                    result, use = core_use(run, pids.get(name), fake.pid)
                    assert result.statuses == {200}, f"{name} answered {result.statuses}"
                    results[name].append(result)
                    cores[name].append(use)
            summaries = {name: summarize(rs) for name, rs in results.items()}
            for name, (p50, p99, rate) in summaries.items():
                print(f"{concurrency:>11} {name:>14} {p50:>8.2f} {p99:>8.2f} {rate:>8.0f}")
            overhead = summaries["novaro-lite"][0] - summaries["provider only"][0]
            print(f"{concurrency:>11} {'overhead p50':>14} {overhead:>8.2f}")
            v1_overhead = summaries["/v1 (openai)"][0] - summaries["provider only"][0]
            print(f"{concurrency:>11} {'/v1 overhead':>14} {v1_overhead:>8.2f}")
            if options.floor:
                floor_overhead = summaries["floor"][0] - summaries["provider only"][0]
                print(f"{concurrency:>11} {'floor overhead':>14} {floor_overhead:>8.2f}")
            native, compat = summaries["novaro-lite"], summaries["/v1 (openai)"]
            print(
                f"{concurrency:>11} {'/v1 ÷ /api/v1':>14} {compat[0] / native[0]:>8.3f} {compat[1] / native[1]:>8.3f}"
                f" {compat[2] / native[2]:>8.3f}"
            )
            if options.baseline:
                ratio = summaries["novaro-lite"][2] / summaries["baseline"][2]
                print(f"{concurrency:>11} {'req/s vs base':>14} {ratio:>8.3f}")
                base_overhead = summaries["baseline"][0] - summaries["provider only"][0]
                print(f"{concurrency:>11} {'base overhead':>14} {base_overhead:>8.2f}")
                base_v1_overhead = summaries["base /v1"][0] - summaries["provider only"][0]
                print(f"{concurrency:>11} {'base /v1 ovh.':>14} {base_v1_overhead:>8.2f}")
            if options.workers:
                one, several = summaries["novaro-lite"], summaries[workers_name]
                p50_ratio, rate_ratio = several[0] / one[0], several[2] / one[2]
                print(f"{concurrency:>11} {'workers ÷ one':>14} {p50_ratio:>8.3f} {'':>8} {rate_ratio:>8.3f}")
                one_cores = statistics.median(use.server for use in cores["novaro-lite"])
                others = statistics.median(use.others for use in cores[workers_name])
                workers_cores = statistics.median(use.server for use in cores[workers_name])
                left = (os.cpu_count() or 1) - others
                print(
                    f"{concurrency:>11} {'cores':>14} one process {one_cores:.2f}, {workers_name} {workers_cores:.2f},"
                    f" generator + fake beside {workers_name} {others:.2f}: ceiling {left / one_cores:.2f}"
                )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
