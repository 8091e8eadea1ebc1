"""Benchmark the delivery queue on SQLite and on PostgreSQL, each with one and with two server processes, in one run.

Run: .venv/bin/python bench/engines.py [--rounds 3] [--scale 1.0] [--only sqlite-1,postgres-2] [--baseline DIR]
(PostgreSQL 16 comes from the `pgserver` wheel of the test extra: `make test` or `pip install -e '.[test]'`.)

Everything runs on 127.0.0.1. One PostgreSQL server (its defaults: fsync and synchronous_commit on) lives in a
temporary directory for the whole run. Each configuration is N `novaro-lite serve` processes on their own
ports sharing one fresh database (on SQLite, one fresh data directory: both processes share its file), with
the same settings on both engines: the demo model, time_scale 1000, max_in_flight 64 and
max_in_flight_per_webhook 64 per process, sqlite_synchronous normal, database_pool_size 10. In this
process: the load generator and a loopback receiver that answers 200 and timestamps every delivery id.

Per configuration and round, on one set of servers:
1. deliveries/s: BACKLOG requests written straight into storage, all due at one moment a few seconds after
   the servers are up; deliveries from the first to the last arrival.
2. enqueue/s: POST /api/v1/message-requests at concurrency 64 (split evenly over the processes), ENQUEUE
   requests due a week later (10 minutes at time_scale 1000, after the round); accepted requests per second.
3. lateness: 200 requests due per second for LATENESS s, accepted ahead of time (round-robin over the
   processes); arrival − due time, p50 and p99. The run says if enqueueing overran the lead (a request
   accepted after its due time goes with delay 0, and its lateness counts from its due time all the same).
Also the CPU seconds (user + system) of the servers and of PostgreSQL's processes during phases 1 and 2, per
delivery and per accepted request. The configurations run in a rotated order every round (a noisy minute
should not always hit the same one); medians over the rounds, ratios against SQLite with one process.

--only may also name pgasync-1 and pgasync-2 (PostgreSQL with synchronous_commit off on the database), and,
with --baseline DIR, any configuration as NAME@base: its servers run DIR's novaro_lite (a before/after of
an engine change in one run; the seeding uses this checkout's code, so the schemas must match).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import cpu_seconds
from queue_load import enqueue_load, enqueue_spaced, lateness_ms, request_body, seed, write_config
from realtime import free_port, novaro, wait_until_up

from novaro_lite.benchmark.loopback import Receiver

CONFIGS = ("sqlite-1", "postgres-1", "sqlite-2", "postgres-2")
# Not run unless named in --only: PostgreSQL with synchronous_commit = off on the database (a COMMIT does not
# wait for its WAL flush; a PostgreSQL or OS crash may lose the last ~0.6 s of commits, never corrupts), the
# closest to SQLite's synchronous = normal (no fsync per commit; a power cut may lose the last commits).
OPTIONAL = ("pgasync-1", "pgasync-2")
BASELINE = "sqlite-1"
BACKLOG, ENQUEUE, LATENESS, PER_SECOND = 5000, 6000, 10, 200
DUE_AFTER = 12.0  # seconds from seeding the backlog to its due time: seeding and start-up fit in it
DELIVERY = {"time_scale": 1000, "max_in_flight": 64, "max_in_flight_per_webhook": 64}
MEASURES = ("deliveries/s", "enqueue/s", "lateness p50 ms", "lateness p99 ms")
CPU_MEASURES = ("server ms/delivery", "pg ms/delivery", "server ms/enqueue", "pg ms/enqueue")


@dataclass
class Figures:
    values: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in (*MEASURES, *CPU_MEASURES)})

    def median(self, measure: str) -> float:
        return statistics.median(self.values[measure])


class Postgres:
    """The run's PostgreSQL: a fresh database per configuration and round, and its processes' CPU."""

    def __init__(self, root: Path) -> None:
        from pgserver.postgres_server import get_server

        self._server = get_server(root, cleanup_mode="stop")
        self._postmaster = int((root / "postmaster.pid").read_text().split()[0])
        self._count = 0

    def url(self, database: str) -> str:
        return str(self._server.get_uri(database))

    async def create(self) -> tuple[str, str]:
        """A new, empty database: its name and URL."""
        self._count += 1
        name = f"bench_{self._count}"
        await self.execute(f"CREATE DATABASE {name}")
        return name, self.url(name)

    async def execute(self, sql: str) -> None:
        connection = await asyncpg.connect(self.url("postgres"))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def describe(self) -> str:
        connection = await asyncpg.connect(self.url("postgres"))
        try:
            shown = [
                f"{name}={await connection.fetchval(f'SHOW {name}')}"
                for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers", "max_connections")
            ]
        finally:
            await connection.close()
        return " ".join(shown)

    def cpu(self) -> float:
        return cpu_seconds(self._postmaster, reaped=True)

    def stop(self) -> None:
        self._server.cleanup()


@dataclass(frozen=True)
class Server:
    proc: subprocess.Popen[bytes]
    url: str


@contextlib.contextmanager
def servers(config: Path, data: Path, count: int, logs: Path, checkout: Path | None = None) -> Iterator[list[Server]]:
    """Start `count` servers on the same config and data, from `checkout` (else this one); stderr to `logs`."""
    started: list[Server] = []
    try:
        for _ in range(count):
            port = free_port()
            args = novaro("serve", "--port", str(port), "--config", str(config), "--data-dir", str(data))
            with (logs / f"server-{port}.log").open("wb") as log:
                # `python -m` puts the working directory first on sys.path: the checkout's novaro_lite is what runs.
                proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, cwd=checkout)
            started.append(Server(proc, f"http://127.0.0.1:{port}"))
        yield started
    finally:
        for server in started:
            server.proc.terminate()
        for server in started:
            server.proc.wait(timeout=30)


@contextlib.asynccontextmanager
async def phase_cpu(procs: list[Server], postgres: Postgres | None) -> AsyncIterator[list[float]]:
    """Yield a list that holds, after the block, the servers' and PostgreSQL's CPU seconds spent in it."""
    spent: list[float] = []
    servers_before = sum(cpu_seconds(server.proc.pid) for server in procs)
    pg_before = postgres.cpu() if postgres else 0.0
    yield spent
    spent.append(sum(cpu_seconds(server.proc.pid) for server in procs) - servers_before)
    spent.append((postgres.cpu() if postgres else 0.0) - pg_before)


async def measure(
    name: str, work: Path, postgres: Postgres, receiver: Receiver, receiver_url: str, sizes: argparse.Namespace
) -> dict[str, float]:
    engine, count = name.split("-")[0], int(name.split("-")[1].split("@")[0])
    checkout = sizes.baseline if name.endswith("@base") else None
    root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work))
    data = root / "data"
    database_url = ""
    if engine != "sqlite":
        database, database_url = await postgres.create()
        if engine == "pgasync":
            await postgres.execute(f"ALTER DATABASE {database} SET synchronous_commit = off")
    config = write_config(root / "novaro.toml", synchronous="normal", database_url=database_url, **DELIVERY)
    target: Path | str = database_url or data
    due = time.time() + DUE_AFTER
    token, agent_id, webhook_id = await seed(target, receiver_url, sizes.backlog, due)
    figures: dict[str, float] = {}
    receiver.clear()
    with servers(config, data, count, root, checkout) as procs:
        urls = [server.url for server in procs]
        for url in urls:
            await asyncio.to_thread(wait_until_up, f"{url}/healthz")
        if time.time() > due - 0.5:
            print(f"  ({name}: seeding and start-up took longer than {DUE_AFTER} s; raise DUE_AFTER)", flush=True)
        await asyncio.sleep(max(0.0, due - 0.5 - time.time()))
        async with phase_cpu(procs, postgres if database_url else None) as spent:
            await receiver.wait_for(sizes.backlog, timeout=600)
        times = sorted(receiver.arrivals.values())
        assert len(times) == sizes.backlog, f"{name}: only {len(times)} of {sizes.backlog} delivered"
        figures["deliveries/s"] = sizes.backlog / (times[-1] - times[0])
        figures["server ms/delivery"] = spent[0] * 1000 / sizes.backlog
        figures["pg ms/delivery"] = spent[1] * 1000 / sizes.backlog

        body = request_body(agent_id, webhook_id, "e", 7 * 86400)
        await enqueue_load(urls, token, body, concurrency=16, requests=500)  # warm-up
        async with phase_cpu(procs, postgres if database_url else None) as spent:
            rate, results = await enqueue_load(urls, token, body, concurrency=64, requests=sizes.enqueue)
        assert all(result.statuses == {202} for result in results), [result.statuses for result in results]
        accepted = sum(result.requests for result in results)
        figures["enqueue/s"] = rate
        figures["server ms/enqueue"] = spent[0] * 1000 / accepted
        figures["pg ms/enqueue"] = spent[1] * 1000 / accepted

        receiver.clear()
        total = PER_SECOND * sizes.lateness
        lead = 5 + total / 200  # enqueueing must end before the first is due: it ran at 300-2,000/s here
        targets, took = await enqueue_spaced(
            urls, token, agent_id, webhook_id, per_second=PER_SECOND, total=total, lead=lead
        )
        if took > lead:
            print(f"  ({name}: enqueueing the lateness requests took {took:.1f} s, past the {lead} s lead)")
        await receiver.wait_for(total, timeout=sizes.lateness + lead + 120)
        figures["lateness p50 ms"], figures["lateness p99 ms"], _ = lateness_ms(receiver, targets)
    if receiver.repeats:
        print(f"  ({name}: {receiver.repeats} deliveries repeated an id)", flush=True)
    return figures


def with_postgres(prefix: str, run: Callable[[Any, Path, Postgres], Coroutine[Any, Any, None]], options: Any) -> None:
    """Run `run(options, work, postgres)` with a scratch directory and a PostgreSQL of its own, stopped after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        work = Path(scratch)
        (work / "pg").mkdir()
        postgres = Postgres(work / "pg")
        try:
            asyncio.run(run(options, work, postgres))
        finally:
            postgres.stop()


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_table(results: dict[str, Figures], rounds: int) -> None:
    names = list(results)
    print(f"\nmedians over {rounds} rounds; ratio = configuration / {BASELINE} (lateness: lower is better)")
    print("| measure | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    base = results[BASELINE] if BASELINE in results else None
    for measure_name in (*MEASURES, *CPU_MEASURES):
        cells = []
        for name in names:
            value = results[name].median(measure_name)
            cell = f"{value:,.0f}" if measure_name in MEASURES else f"{value:.2f}"
            if base is not None and name != BASELINE and measure_name in MEASURES:
                cell += f" ({value / base.median(measure_name):.2f}×)"
            cells.append(cell)
        print(f"| {measure_name} | " + " | ".join(cells) + " |")


async def run(options: argparse.Namespace, work: Path, postgres: Postgres) -> None:
    receiver = Receiver()
    listener = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver_url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/hook"
    print(
        f"{os.cpu_count()} cores; python {platform.python_version()}, sqlite {sqlite3.sqlite_version},"
        f" asyncpg {asyncpg.__version__}, PostgreSQL {await postgres.describe()}"
    )
    print(
        f"backlog {options.backlog:,}, enqueue {options.enqueue:,}, lateness {PER_SECOND}/s for {options.lateness} s;"
        f" {options.rounds} rounds; load average at start {load_average()}",
        flush=True,
    )
    known = (*CONFIGS, *OPTIONAL)
    configs = [name for name in options.only.split(",") if name.split("@")[0] in known]
    results = {name: Figures() for name in configs}
    for round_number in range(options.rounds):
        shift = round_number % len(configs)
        for name in configs[shift:] + configs[:shift]:
            figures = await measure(name, work, postgres, receiver, receiver_url, options)
            for key, value in figures.items():
                results[name].values[key].append(value)
            shown = ", ".join(f"{key} {value:,.1f}" for key, value in figures.items())
            print(f"round {round_number + 1} {name}: {shown} (load {load_average()})", flush=True)
    print_table(results, options.rounds)
    print(f"load average at end: {load_average()}")
    listener.close()
    await listener.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout: a configuration named NAME@base in --only runs its servers from there (before/after)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the backlog, enqueue and lateness sizes")
    parser.add_argument(
        "--only", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join((*CONFIGS, *OPTIONAL))}"
    )
    options = parser.parse_args()
    options.backlog, options.enqueue = round(BACKLOG * options.scale), round(ENQUEUE * options.scale)
    options.lateness = max(1, round(LATENESS * options.scale))
    with_postgres("novaro-engines-", run, options)


if __name__ == "__main__":
    main()
