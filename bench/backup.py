"""Benchmark `novaro-lite db backup` against a live SQLite database that keeps taking writes.

Run: .venv/bin/python bench/backup.py [--pending 100000] [--runs 3]

A fresh database (the code under test creates and migrates it) gets `--pending` pending requests with
their content (bench/claim.py's seed: 50 webhooks), then a writer thread commits one small request at a
time, as fast as it can, while the backup runs. Reported per run: the backup's time (the CLI's own
function, storage.store.backup), `VACUUM INTO` beside it for comparison, and how many commits the writer
made during each, which says whether writes went on meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.claim import INSERT, MESSAGES, seed
from novaro_lite.storage.store import Storage, backup


def writing(path: Path, stop: threading.Event, commits: list[int]) -> None:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA busy_timeout = 5000")
    now = int(time.time())
    while not stop.is_set():
        n = commits[0]
        row = (f"req_live_{n:08d}", "bench", "wh_live", now * 1000, now, MESSAGES, now, now)
        writer.execute(INSERT, row)
        commits[0] += 1
    writer.close()


def timed(action: Callable[[], None], commits: list[int]) -> tuple[float, int]:
    before, began = commits[0], time.perf_counter()
    action()
    return time.perf_counter() - began, commits[0] - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "novaro.db"

        async def make() -> None:
            async with Storage.open(path, time.time) as storage:
                await seed(storage, options.pending, time.time())

        asyncio.run(make())
        print(f"{options.pending} pending requests, {path.stat().st_size / 1e6:.1f} MB")
        stop, commits = threading.Event(), [0]
        writer = threading.Thread(target=writing, args=(path, stop, commits))
        writer.start()
        time.sleep(0.5)
        try:
            for run in range(options.runs):
                copy = Path(scratch) / f"backup-{run}.db"
                took, during = timed(lambda: backup(path, copy), commits)  # noqa: B023 - called at once
                vacuumed = Path(scratch) / f"vacuum-{run}.db"

                def vacuum() -> None:
                    with sqlite3.connect(path) as source:
                        source.execute("VACUUM INTO ?", (str(vacuumed),))  # noqa: B023 - called at once

                vacuum_took, vacuum_during = timed(vacuum, commits)
                size = copy.stat().st_size / 1e6
                print(
                    f"run {run + 1}: db backup {took:.3f} s ({during} commits meanwhile, {size:.1f} MB);"
                    f" VACUUM INTO {vacuum_took:.3f} s ({vacuum_during} commits meanwhile)"
                )
        finally:
            stop.set()
            writer.join()


if __name__ == "__main__":
    main()
