"""PostgreSQL's group commit and claim in one round trip each (storage/postgres/batches.py): what they carry
arrives as it was sent, and each is one message to the server."""

from __future__ import annotations

import asyncio
import math
import random
import time
from typing import Any

import asyncpg
import pytest

from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.errors import ValidationError
from novaro_lite.storage.postgres import database
from novaro_lite.storage.postgres.batches import bound
from novaro_lite.storage.postgres.database import _Connection
from novaro_lite.storage.postgres.schema import MIGRATIONS
from novaro_lite.storage.requests import IN_FLIGHT_SQL, PENDING_SQL
from novaro_lite.storage.store import Storage
from tests.fakes.postgres import LocalPostgres

pytestmark = pytest.mark.anyio
CLAIM_LOCK = "novaro-lite:claim"  # the claims' advisory lock, as novaro_claim (and every older server) takes it
PROBE = "CREATE TABLE probe (n integer, yes boolean, i bigint, f double precision, t text, b bytea, tags text[])"
COLUMNS = "n, yes, i, f, t, b, tags"
INSERT = f"INSERT INTO probe ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
TRICKY = ["", "'", "''", "\\", "\\'", "?", "$1[2]", "$$", "'); DROP TABLE probe; --", "e'\\x41'", "é 東京 🙂", "\n\r"]


def rows(seed: int, count: int) -> list[tuple[Any, ...]]:
    """Rows of every kind of value a store sends, the awkward ones first, then random ones."""
    draw = random.Random(seed)
    alphabet = "ab'\\?$[]1;-\n é東🙂\u200f"
    out: list[tuple[Any, ...]] = [
        (1, True, 2**63 - 1, 0.1, TRICKY[0], bytes(range(256)), TRICKY),
        (2, False, -(2**63), -math.inf, "x" * 100_000, b"", []),
        (3, None, None, None, None, None, None),
        (4, True, -1, math.inf, "-", b"\x00", ["a,b", '"q"', "{}", "NULL"]),
    ]
    for n in range(5, count):
        text = "".join(draw.choice(alphabet) for _ in range(draw.randrange(30)))
        out.append((n, draw.random() < 0.5, draw.randrange(-(2**63), 2**63), draw.uniform(-1e6, 1e6), text,
                    draw.randbytes(draw.randrange(8)), [text, text[::-1]]))  # fmt: skip
    return out


async def test_a_batch_keeps_every_value_as_it_was_sent(postgres: LocalPostgres):
    url = postgres.new_database()
    async with Storage.open(url, time.time) as storage:
        async with storage.database.transaction() as tx:
            await tx.execute(PROBE)
        sent = rows(seed=7, count=60)
        await asyncio.gather(
            *(storage.database.insert(INSERT, row) for row in sent[::2]),
            *(storage.database.write((INSERT, row), (INSERT, row)) for row in sent[1::2]),  # each twice
        )
        got = [
            tuple(row[column] for column in range(7))
            for row in await storage.database.read(f"SELECT {COLUMNS} FROM probe", ())
        ]
    expected = sent[::2] + [row for row in sent[1::2] for _ in range(2)]
    assert sorted(got, key=lambda row: row[0]) == sorted(
        [(*row[:6], None if row[6] is None else list(row[6])) for row in expected], key=lambda row: row[0]
    )


async def test_text_with_nul_is_refused_as_the_requests_fault(postgres: LocalPostgres):
    """PostgreSQL cannot store U+0000; the API refuses it first (tests/api/test_nul.py), and a value the API did
    not see (an imported card's) is a ValidationError here, as a bound parameter was."""
    async with Storage.open(postgres.new_database(), time.time) as storage:
        async with storage.database.transaction() as tx:
            await tx.execute(PROBE)
        with pytest.raises(ValidationError, match="NUL"):
            await storage.database.write((INSERT, (1, True, 1, 1.0, "a\x00b", b"", [])))
        with pytest.raises(ValidationError, match="NUL"):
            await storage.database.insert(INSERT, (1, True, 1, 1.0, "a\x00b", b"", []))
        assert await storage.database.read("SELECT n FROM probe", ()) == []


def test_the_claim_function_says_what_the_stores_say():
    """novaro_claim's SQL lives in its migration, frozen: it must read the statuses the stores write and take
    the lock older servers take (a change to either needs a new migration that replaces the function)."""
    (function,) = [script for script in MIGRATIONS if "CREATE FUNCTION novaro_claim" in script]
    assert function.count(PENDING_SQL) == 2 and IN_FLIGHT_SQL in function
    assert f"hashtextextended('{CLAIM_LOCK}', 0)" in function


def test_placeholders_and_values_must_agree():
    assert bound("SELECT ? + ?", (1, None)) == ("SELECT ($1->>0)::bigint + NULL", [1])
    with pytest.raises(ValueError, match="2 placeholders"):
        bound("SELECT ? + ?", (1,))
    with pytest.raises(TypeError, match="dict"):
        bound("SELECT ?", ({"a": 1},))
    with pytest.raises(TypeError, match="strings only"):
        bound("SELECT ?", ([1, 2],))


class Counting(_Connection):
    """A connection of ours that counts the messages it sends to PostgreSQL (each a write to its socket)."""

    sent = 0

    def __init__(self, protocol: Any, transport: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(protocol, transport, *args, **kwargs)
        write = transport.write

        def counted(data: bytes) -> None:
            Counting.sent += 1
            write(data)

        transport.write = counted


async def test_a_batch_and_a_claim_are_one_message_each(postgres: LocalPostgres, monkeypatch):
    """A claim with its lock, and the bookkeeping of a batch of deliveries (three statements each): each is one
    message and one answer, once asyncpg has prepared its statement on the connection (a message more)."""
    monkeypatch.setattr(database, "_Connection", Counting)
    now = time.time()
    async with Storage.open(postgres.new_database(), lambda: now, pool_size=1) as storage:
        monkeypatch.setattr(storage.database, "notify_due", lambda when: None)  # no wake-ups sent meanwhile
        hook = await storage.webhooks.create("acme", "https://a.example/hook", "", True)

        async def accept_and_claim(count: int) -> list[str]:
            await asyncio.gather(*(
                storage.requests.create(
                    "acme", agent_id="agt_1", webhook_id=hook.id, reference="r", messages=[ChatMessage("user", "hi")],
                    context_ids=(), plan=Plan(now - 1, now - 1), accepted=lambda request: request.id,
                ) for _ in range(count)
            ))  # fmt: skip
            Counting.sent = 0
            claimed = await storage.queue.claim(
                now=now, lease_seconds=300, limit=count, per_webhook=count, in_flight={}, working=(), owner="own"
            )
            assert len(claimed) == count and Counting.sent == (2 if count == 1 else 1)
            return [request.id for request in claimed]

        async def finish(request_ids: list[str]) -> None:
            Counting.sent = 0
            finished = await asyncio.gather(
                *(storage.queue.finish_attempt(request_id, "own", None, "failed") for request_id in request_ids)
            )
            assert finished == [True] * len(request_ids) and Counting.sent == 1  # accepting prepared it

        await finish(await accept_and_claim(1))
        await finish(await accept_and_claim(5))


async def test_a_batch_is_one_transaction(postgres: LocalPostgres):
    """A statement that fails takes the batch's earlier statements with it, as one transaction does (and the
    group commit then writes the other writers' statements again without it)."""
    async with Storage.open(postgres.new_database(), time.time) as storage:
        async with storage.database.transaction() as tx:
            await tx.execute(PROBE + "; ALTER TABLE probe ADD UNIQUE (n)")
        row: tuple[Any, ...] = (1, True, 1, 1.0, "t", b"", [])
        with pytest.raises(asyncpg.UniqueViolationError):
            await storage.database.write((INSERT, row), (INSERT, row))
        assert await storage.database.read("SELECT n FROM probe", ()) == []
