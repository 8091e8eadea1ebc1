"""Group commit on SQLite, one process against two sharing the file: committed writes per second, CPU per write.

Run: .venv/bin/python bench/group_commit.py [--rounds 3] [--writers 64] [--seconds 4] [--loop-work 0.2]
Under bench/before_after.py (--before OTHER --after . -- bench/group_commit.py) it measures two checkouts in
the same run: each child process imports novaro_lite from PYTHONPATH.

Each process opens one data directory's database through Storage.open (WAL, synchronous normal) and runs
`writers` tasks, each committing one small UPDATE of its own row at a time through the group commit
(Database.write, as a delivery's bookkeeping does), for `seconds` after a common start. No HTTP; with
--loop-work MS one more task keeps the event loop busy in slices of MS milliseconds (a server's loop is
busy with requests: how long a turn takes decides how long a transaction spread over several turns holds
the lock), and CPU per write then counts that task too. What differs between one and two processes is how
the two share SQLite's write lock. Per round, one process and then two (the order alternates); medians over the rounds
of writes/s (all processes together) and of CPU ms per write (user + system of the processes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from novaro_lite.storage.store import Storage


async def keep_busy(slice_seconds: float, end: float) -> None:
    while time.time() < end:
        until = time.perf_counter() + slice_seconds
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(0)


async def child(data: Path, first: int, writers: int, start_at: float, seconds: float, loop_work: float) -> None:
    async with Storage.open(data / "novaro.db", time.time) as storage:
        database = storage.database
        async with database.transaction() as tx:
            await tx.execute("CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            await tx.executemany(
                "INSERT OR IGNORE INTO bench_rows (id, n) VALUES (?, 0)", [(first + n,) for n in range(writers)]
            )
        await asyncio.sleep(max(0.0, start_at - time.time()))
        end, done = start_at + seconds, 0

        async def writer(row: int) -> None:
            nonlocal done
            while time.time() < end:
                await database.write(("UPDATE bench_rows SET n = n + 1 WHERE id = ?", (row,)))
                done += 1

        before = resource.getrusage(resource.RUSAGE_SELF)
        busy = [keep_busy(loop_work / 1000, end)] if loop_work else []
        await asyncio.gather(*(writer(first + n) for n in range(writers)), *busy)
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(json.dumps({"writes": done, "cpu": cpu}))


def run(processes: int, writers: int, seconds: float, loop_work: float) -> tuple[float, float]:
    """writes/s of all processes together, and their CPU ms per write."""
    with tempfile.TemporaryDirectory(prefix="novaro-group-commit-") as work:
        start_at = time.time() + 3.0  # every child has opened the database and made its rows by then
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    work,
                    *map(str, (n * writers, writers, start_at, seconds, loop_work)),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(processes)
        ]
        results = [json.loads(process.communicate()[0]) for process in children]
    writes = sum(result["writes"] for result in results)
    return writes / seconds, 1000 * sum(result["cpu"] for result in results) / writes


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        data, first, writers, start_at, seconds, loop_work = sys.argv[2:8]
        asyncio.run(child(Path(data), int(first), int(writers), float(start_at), float(seconds), float(loop_work)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--loop-work", type=float, default=0.0, help="ms per slice of a task keeping the loop busy")
    options = parser.parse_args()
    figures: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for round_ in range(options.rounds):
        for processes in (1, 2) if round_ % 2 == 0 else (2, 1):
            rate, cpu_ms = run(processes, options.writers, options.seconds, options.loop_work)
            figures[processes].append((rate, cpu_ms))
            print(f"round {round_ + 1}, {processes} process(es): {rate:,.0f} writes/s, {cpu_ms:.3f} CPU ms/write")
    one, two = (statistics.median(rate for rate, _ in figures[n]) for n in (1, 2))
    for n in (1, 2):
        print(
            f"median, {n} process(es): {statistics.median(r for r, _ in figures[n]):,.0f} writes/s,"
            f" {statistics.median(c for _, c in figures[n]):.3f} CPU ms/write"
        )
    print(f"two ÷ one: {two / one:.2f}")


if __name__ == "__main__":
    main()
