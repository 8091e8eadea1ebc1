"""Where a delivery's time goes in PostgreSQL: every statement the servers run while draining a backlog, timed.

Run: .venv/bin/python bench/pg_statements.py [--processes 1] [--backlog 3000]
Same setup as bench/engines.py (its servers, config and seeding), on PostgreSQL only: the backlog is seeded,
then the database is set to log every statement with its duration (`log_min_duration_statement = 0`: the
time the backend spent on it, lock waits included, network and client excluded), the servers drain the
backlog, and the log is summed up by statement: how many, total and mean milliseconds, and per delivery.
Also the table and index counters (pg_stat_user_tables, pg_stat_user_indexes) over the same drain.
Logging every statement costs time itself, so the delivery rate printed here is not a benchmark figure.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import DELIVERY, Postgres, servers, with_postgres
from queue_load import enqueue_load, request_body, seed, write_config
from realtime import wait_until_up

from novaro_lite.benchmark.loopback import Receiver

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
DURATION = re.compile(r"duration: ([\d.]+) ms\s+(parse|bind|execute|statement)\s*[^:]*:\s*(.*)", re.DOTALL)
COUNTERS = """
    SELECT 'table ' || relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd,
           n_tup_hot_upd, n_dead_tup
    FROM pg_stat_user_tables
    UNION ALL
    SELECT 'index ' || indexrelname, 0, 0, idx_scan, idx_tup_read, idx_tup_fetch, 0, 0, 0
    FROM pg_stat_user_indexes
"""
COUNTER_NAMES = ("seq_scan", "seq_tup_read", "idx_scan", "idx_tup_read/fetch", "ins", "upd", "hot_upd", "dead")


def statements(log: str) -> dict[tuple[str, str], list[float]]:
    """Durations by (protocol phase, statement text squeezed to one line) from a PostgreSQL log."""
    entries: list[str] = []
    for line in log.splitlines():
        if LOG_LINE.match(line):
            entries.append(line)
        elif entries:
            entries[-1] += " " + line.strip()
    found: dict[tuple[str, str], list[float]] = defaultdict(list)
    for entry in entries:
        if match := DURATION.search(entry):
            text = " ".join(match.group(3).split())
            found[(match.group(2), text[:110])].append(float(match.group(1)))
    return found


async def counters(url: str) -> dict[str, tuple[int, ...]]:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        return {row[0]: tuple(int(value or 0) for value in row[1:]) for row in await connection.fetch(COUNTERS)}
    finally:
        await connection.close()


async def run(options: argparse.Namespace, work: Path, postgres: Postgres) -> None:
    receiver = Receiver()
    listener = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver_url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/hook"
    name, url = await postgres.create()
    config = write_config(work / "novaro.toml", synchronous="normal", database_url=url, **DELIVERY)
    due = time.time() + 10
    token, agent_id, webhook_id = await seed(url, receiver_url, options.backlog, due)
    admin = await asyncpg.connect(postgres.url("postgres"))
    await admin.execute(f"ALTER DATABASE {name} SET log_min_duration_statement = 0")
    await admin.close()
    log = work / "pg" / "log"
    with servers(config, work / "data", options.processes, work) as started:
        urls = [server.url for server in started]
        for base in urls:
            await asyncio.to_thread(wait_until_up, f"{base}/healthz")
        await asyncio.sleep(max(0.0, due - 0.5 - time.time()))
        before, offset = await counters(url), log.stat().st_size
        await receiver.wait_for(options.backlog, timeout=600)
        after, end = await counters(url), log.stat().st_size
        times = sorted(receiver.arrivals.values())
        print(f"{options.processes} process(es), {len(times):,} delivered, {len(times) / (times[-1] - times[0]):,.0f}/s"
              " (with every statement logged)")  # fmt: skip
        report("the drain", "delivery", log.read_bytes()[offset:end].decode(errors="replace"), len(times))
        report_counters("the drain", "delivery", before, after, len(times))

        body = request_body(agent_id, webhook_id, "e", 7 * 86400)
        before, offset = await counters(url), log.stat().st_size
        rate, _ = await enqueue_load(urls, token, body, concurrency=64, requests=options.backlog)
        after, end = await counters(url), log.stat().st_size
        print(f"\n{options.backlog:,} accepted at concurrency 64, {rate:,.0f}/s (with every statement logged)")
        report("the enqueue load", "request", log.read_bytes()[offset:end].decode(errors="replace"), options.backlog)
        report_counters("the enqueue load", "request", before, after, options.backlog)
    listener.close()


def report(what: str, unit: str, log: str, count: int) -> None:
    found = statements(log)
    total = sum(sum(values) for values in found.values())
    print(f"\nstatements during {what}: {total:,.0f} ms in backends, {total / count:.3f} ms per {unit}")
    print(f"{'count':>7} {'total ms':>9} {'mean ms':>8} {'ms/' + unit[:5]:>9}  phase     statement")
    for (phase, sql), values in sorted(found.items(), key=lambda item: -sum(item[1]))[:20]:
        print(f"{len(values):>7,} {sum(values):>9,.0f} {sum(values) / len(values):>8.3f}"
              f" {sum(values) / count:>9.3f}  {phase:9} {sql}")  # fmt: skip


def report_counters(
    what: str, unit: str, before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]], count: int
) -> None:
    print(f"\ncounters over {what}, per {unit}: {', '.join(COUNTER_NAMES)}")
    for key, values in after.items():
        change = [(new - old) / count for new, old in zip(values, before.get(key, (0,) * len(values)), strict=True)]
        if any(change):
            print(f"  {key:45} " + " ".join(f"{value:8.2f}" for value in change))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--backlog", type=int, default=3000)
    with_postgres("novaro-pg-statements-", run, parser.parse_args())


if __name__ == "__main__":
    main()
