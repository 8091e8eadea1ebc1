"""Pick the PostgreSQL driver by measurement: asyncpg's Pool against psycopg 3's AsyncConnectionPool.

Run: .venv/bin/python bench/pg_driver.py [--rounds 7] [--pool 10] [--scale 1.0]
(needs the `bench` extra: `.venv/bin/pip install -e '.[bench]'`)

One run starts a throwaway PostgreSQL 16 (the `pgserver` wheel) in a temporary directory, over its unix
socket, and creates a table shaped like our message_requests queue (bigint identity seq, unique text id,
the partial indexes on (webhook_id, due_ms) and on (due_ms) over the live statuses). Then, in one asyncio
process (uvloop when installed, as the server runs), each round measures both drivers one after the other,
the order flipped every round, each with a fresh pool of the same size and a freshly seeded table:

  lookup         point lookup by the unique id, 64 concurrent callers              → lookups/s
  batch          group commit: 64 rows per transaction with executemany            → rows/s
  batch-unnest   the same batches as one INSERT … SELECT FROM unnest($1::text[], …) → rows/s
  single         one row per transaction, 64 concurrent callers                    → rows/s
  claim          UPDATE … WHERE seq IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT 50) RETURNING, 4 concurrent
                 claimers draining 50,000 due rows                                  → claimed rows/s

For each workload it also records the client's CPU per operation (time.process_time: the event loop's
thread and any helper threads of the driver), which is what the server's realtime path competes with.
Printed: per round, then the medians and the asyncpg/psycopg ratio per workload, and the load average.

psycopg runs as an application would use it: connections in autocommit (so a lone SELECT is one round
trip, not BEGIN/SELECT/COMMIT) with explicit `conn.transaction()` blocks, binary results (`binary=True`)
and binary parameters (`%b` placeholders: with `%s`, a list of str goes as a text array whose every element
is escaped by a regex in Python, 63 µs of CPU per row of the unnest insert instead of 11), and its default
automatic server-side preparation (prepare_threshold=5). asyncpg runs with its defaults
(statement cache, the Pool resetting each connection on release).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Any, Protocol

import asyncpg
import psycopg
import psycopg_pool
from pgserver.postgres_server import get_server

WORKLOADS = ("lookup", "batch", "batch-unnest", "single", "claim")
DRIVERS = ("asyncpg", "psycopg")
CALLERS, BATCH, CLAIMERS, CLAIM_LIMIT = 64, 64, 4, 50
LIVE = "status IN ('scheduled', 'generating', 'delivering')"
SCHEMA = (
    "DROP TABLE IF EXISTS message_requests",
    """CREATE TABLE message_requests (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        account text NOT NULL,
        webhook_id text NOT NULL,
        status text NOT NULL,
        due_ms bigint NOT NULL,
        scheduled_for bigint NOT NULL,
        lease_owner text,
        messages text,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL)""",
    f"CREATE INDEX message_requests_webhook_due ON message_requests (webhook_id, due_ms) WHERE {LIVE}",
    f"CREATE INDEX message_requests_due ON message_requests (due_ms) WHERE {LIVE}",
)
COLUMNS = "id, account, webhook_id, status, due_ms, scheduled_for, messages, created_at, updated_at"
LOOKUP = "SELECT * FROM message_requests WHERE id = $1"
INSERT = f"INSERT INTO message_requests ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
INSERT_UNNEST = (
    f"INSERT INTO message_requests ({COLUMNS}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
    " $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[])"
)
CLAIM = (
    "UPDATE message_requests SET status = 'generating', lease_owner = $1, due_ms = $2, updated_at = $3"
    " WHERE seq IN (SELECT seq FROM message_requests WHERE status = 'scheduled' AND due_ms <= $4"
    f" ORDER BY due_ms LIMIT {CLAIM_LIMIT} FOR UPDATE SKIP LOCKED)"
    " RETURNING seq, id, account, webhook_id, messages, scheduled_for"
)
# About 1 KB of conversation, as the queue stores it (a JSON array of [role, content, name]).
MESSAGES = json.dumps([["user", f"Line {n}: are we still on for Friday at the usual place?", None] for n in range(14)])

Row = tuple[str, str, str, str, int, int, str, int, int]


def binary_params(sql: str) -> str:
    """asyncpg's numbered placeholders as psycopg's %b: parameters sent in binary (each $n used once, in order)."""
    numbers = [int(n) for n in re.findall(r"\$(\d+)", sql)]
    assert numbers == list(range(1, len(numbers) + 1)), sql
    return re.sub(r"\$\d+", "%b", sql)


class Driver(Protocol):
    """The five operations timed, as the PostgreSQL engine would issue them."""

    async def lookup(self, request_id: str) -> int: ...
    async def insert_batch(self, rows: Sequence[Row]) -> None: ...
    async def insert_unnest(self, rows: Sequence[Row]) -> None: ...
    async def insert_one(self, row: Row) -> None: ...
    async def claim(self, owner: str, lease_until: int, now_ms: int) -> int: ...
    async def execute(self, sql: str) -> None: ...
    async def close(self) -> None: ...


def columns(rows: Sequence[Row]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


class AsyncpgDriver:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, uri: str, size: int) -> AsyncpgDriver:
        return cls(await asyncpg.create_pool(uri, min_size=size, max_size=size))

    async def lookup(self, request_id: str) -> int:
        row = await self.pool.fetchrow(LOOKUP, request_id)
        return 0 if row is None else 1

    async def insert_batch(self, rows: Sequence[Row]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(INSERT, rows)

    async def insert_unnest(self, rows: Sequence[Row]) -> None:
        await self.pool.execute(INSERT_UNNEST, *columns(rows))

    async def insert_one(self, row: Row) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT, *row)

    async def claim(self, owner: str, lease_until: int, now_ms: int) -> int:
        return len(await self.pool.fetch(CLAIM, owner, lease_until, now_ms, now_ms))

    async def execute(self, sql: str) -> None:
        await self.pool.execute(sql)

    async def close(self) -> None:
        await self.pool.close()


class PsycopgDriver:
    def __init__(self, pool: psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[tuple[Any, ...]]]) -> None:
        self.pool = pool
        self.lookup_sql, self.insert_sql = binary_params(LOOKUP), binary_params(INSERT)
        self.unnest_sql, self.claim_sql = binary_params(INSERT_UNNEST), binary_params(CLAIM)

    @classmethod
    async def open(cls, uri: str, size: int) -> PsycopgDriver:
        pool = psycopg_pool.AsyncConnectionPool(
            uri, min_size=size, max_size=size, kwargs={"autocommit": True}, open=False
        )
        await pool.open(wait=True)
        return cls(pool)

    async def lookup(self, request_id: str) -> int:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(self.lookup_sql, (request_id,), binary=True)
            return 0 if await cursor.fetchone() is None else 1

    async def insert_batch(self, rows: Sequence[Row]) -> None:
        async with self.pool.connection() as conn, conn.transaction(), conn.cursor(binary=True) as cursor:
            await cursor.executemany(self.insert_sql, rows)

    async def insert_unnest(self, rows: Sequence[Row]) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(self.unnest_sql, columns(rows), binary=True)

    async def insert_one(self, row: Row) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(self.insert_sql, row, binary=True)

    async def claim(self, owner: str, lease_until: int, now_ms: int) -> int:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(self.claim_sql, (owner, lease_until, now_ms, now_ms), binary=True)
            return len(await cursor.fetchall())

    async def execute(self, sql: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(sql)

    async def close(self) -> None:
        await self.pool.close()


async def open_driver(name: str, uri: str, size: int) -> Driver:
    return await (AsyncpgDriver.open(uri, size) if name == "asyncpg" else PsycopgDriver.open(uri, size))


async def timed(work: Callable[[], Awaitable[int]]) -> tuple[float, float]:
    """Run `work` (which returns how many operations it did); return (operations/s, client CPU µs per op)."""
    wall, cpu = time.perf_counter(), time.process_time()
    done = await work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert done > 0
    return done / wall, cpu / done * 1e6


async def in_parallel(callers: int, total: int, operation: Callable[[int], Awaitable[int]]) -> int:
    """`callers` tasks share `total` calls of `operation(i)`; return the sum of what the calls returned."""

    async def caller(first: int) -> int:
        return sum([await operation(i) for i in range(first, total, callers)])

    return sum(await asyncio.gather(*(caller(n) for n in range(callers))))


def rows(prefix: str, count: int, now_ms: int) -> list[Row]:
    return [
        (f"req_{prefix}_{i:08d}", "acct_bench", f"whk_{i % 50:02d}", "scheduled", now_ms + 60_000 + i,
         (now_ms + 60_000 + i) // 1000, MESSAGES, now_ms // 1000, now_ms // 1000)
        for i in range(count)
    ]  # fmt: skip


async def seed(driver: Driver, due: int, now_ms: int) -> None:
    """A fresh table holding `due` scheduled requests, all due now, over 50 webhooks (untimed)."""
    for statement in SCHEMA:
        await driver.execute(statement)
    literal = MESSAGES.replace("'", "''")
    await driver.execute(
        f"INSERT INTO message_requests ({COLUMNS}) SELECT 'req_seed_' || lpad(g::text, 8, '0'), 'acct_bench',"
        f" 'whk_' || lpad((g % 50)::text, 2, '0'), 'scheduled', {now_ms - 3_600_000} + g,"
        f" ({now_ms - 3_600_000} + g) / 1000, '{literal}', {now_ms // 1000}, {now_ms // 1000}"
        f" FROM generate_series(1, {due}) AS g"
    )
    await driver.execute("VACUUM ANALYZE message_requests")


async def measure(name: str, uri: str, args: argparse.Namespace, round_no: int) -> dict[str, tuple[float, float]]:
    driver = await open_driver(name, uri, args.pool)
    try:
        now_ms = int(time.time() * 1000)
        due = int(50_000 * args.scale)
        await seed(driver, due, now_ms)
        results: dict[str, tuple[float, float]] = {}
        lookups = int(30_000 * args.scale)
        rng = random.Random(round_no)
        keys = [f"req_seed_{rng.randint(1, due):08d}" for _ in range(lookups)]
        results["lookup"] = await timed(lambda: in_parallel(CALLERS, lookups, lambda i: driver.lookup(keys[i])))

        batches = int(300 * args.scale)
        batch_rows = rows(f"b{round_no}", batches * BATCH, now_ms)
        unnest_rows = rows(f"u{round_no}", batches * BATCH, now_ms)
        single_rows = rows(f"s{round_no}", int(8_000 * args.scale), now_ms)

        async def write_batches(insert: Callable[[Sequence[Row]], Awaitable[None]], data: list[Row]) -> int:
            for start in range(0, len(data), BATCH):  # one group-commit writer, as the server has
                await insert(data[start : start + BATCH])
            return len(data)

        async def insert_one(i: int) -> int:
            await driver.insert_one(single_rows[i])
            return 1

        results["batch"] = await timed(lambda: write_batches(driver.insert_batch, batch_rows))
        results["batch-unnest"] = await timed(lambda: write_batches(driver.insert_unnest, unnest_rows))
        results["single"] = await timed(lambda: in_parallel(CALLERS, len(single_rows), insert_one))

        async def claimer(owner: str) -> int:
            claimed = 0
            while got := await driver.claim(owner, now_ms + 10 * 3_600_000, now_ms):
                claimed += got
            return claimed

        async def drain() -> int:
            return sum(await asyncio.gather(*(claimer(f"worker-{n}") for n in range(CLAIMERS))))

        results["claim"] = await timed(drain)
        return results
    finally:
        await driver.close()


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def run(args: argparse.Namespace, uri: str) -> None:
    probe = await psycopg.AsyncConnection.connect(uri, autocommit=True)
    settings = []
    for setting in ("server_version", "fsync", "synchronous_commit", "shared_buffers"):
        cursor = await probe.execute(f"SHOW {setting}")
        settings.append(f"{setting}={(await cursor.fetchone() or ('?',))[0]}")
    await probe.close()
    loop = type(asyncio.get_running_loop()).__module__
    print(
        f"python {platform.python_version()}, loop {loop}, asyncpg {asyncpg.__version__}, psycopg {psycopg.__version__}"
        f" ({psycopg.pq.__impl__}, libpq {psycopg.pq.version()}), psycopg_pool {psycopg_pool.__version__},"
        f" server {' '.join(settings)}; pool size {args.pool}, {args.rounds} rounds, scale {args.scale}"
    )
    print(f"load average at start: {load_average()}")
    collected: dict[str, dict[str, list[tuple[float, float]]]] = {d: {w: [] for w in WORKLOADS} for d in DRIVERS}
    for round_no in range(args.rounds):
        order = DRIVERS if round_no % 2 == 0 else DRIVERS[::-1]
        for name in order:
            results = await measure(name, uri, args, round_no)
            for workload, value in results.items():
                collected[name][workload].append(value)
            figures = "  ".join(f"{w} {rate:,.0f}/s {cpu:.0f}µs" for w, (rate, cpu) in results.items())
            print(f"round {round_no + 1} {name:8} {figures}  (load {load_average()})", flush=True)

    print(f"\nmedians over {args.rounds} rounds (ops/s; client CPU µs per op); ratio = asyncpg / psycopg")
    heads = ("asyncpg/s", "psycopg/s", "ratio", "asyncpg µs", "psycopg µs", "ratio")
    print(f"{'workload':14}" + "".join(f"{head:>12}" for head in heads))
    for workload in WORKLOADS:
        rate = {d: statistics.median(r for r, _ in collected[d][workload]) for d in DRIVERS}
        cpu = {d: statistics.median(c for _, c in collected[d][workload]) for d in DRIVERS}
        print(
            f"{workload:14}{rate['asyncpg']:>12,.0f}{rate['psycopg']:>12,.0f}{rate['asyncpg'] / rate['psycopg']:>12.2f}"
            f"{cpu['asyncpg']:>12.1f}{cpu['psycopg']:>12.1f}{cpu['asyncpg'] / cpu['psycopg']:>12.2f}"
        )
    print(f"load average at end: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7, help="rounds; each runs both drivers, order alternating")
    parser.add_argument("--pool", type=int, default=10, help="connections in each driver's pool")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every operation count")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pg-driver-") as data:
        server = get_server(data, cleanup_mode="stop")
        try:
            runner: Callable[..., None] = asyncio.run
            with suppress(ImportError):
                import uvloop

                runner = uvloop.run
            runner(run(args, server.get_uri()))
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
