"""The contract between the stores and a database engine (storage/sqlite/, storage/postgres/).

The stores (tokens.py, agents.py, …) hold the application's SQL once, written in the SQL both engines
speak, with `?` placeholders; an engine runs it (PostgreSQL rewrites the placeholders) and supplies what
genuinely differs: connections, migrations, the delivery queue's claim, and erasing purged content.
Nothing outside storage/ knows which engine runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

Statement = tuple[str, tuple[Any, ...]]


def redact(text: str) -> str:
    """`text` with any password in it replaced by ***, for messages and logs: a URL's `user:password@` (up to
    its last @, should the password hold one unencoded) and a `password=` parameter."""
    text = re.sub(r"(://[^:/?#@\s]*:)[^\s/?#]*@", r"\1***@", text)
    return re.sub(r"(?i)\b(password=)[^&\s]*", r"\1***", text)


class Row(Protocol):
    """A result row, by column name or position (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: int | str, /) -> Any: ...


class Transaction(Protocol):
    """One use case's writes, committed together or not at all."""

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run a statement; return how many rows it changed."""

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        """Run a query (or a statement with RETURNING) and return its rows, seeing this transaction's writes."""

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run one statement for each parameter tuple."""

    row_lock: str
    """What a SELECT in this transaction ends with to lock the rows it reads until the transaction ends, so no
    other writer changes them meanwhile (and claims, which skip locked rows, leave them alone): " FOR UPDATE"
    on PostgreSQL, nothing on SQLite, where a write transaction already excludes every other writer."""

    async def lock(self, key: str) -> None:
        """Hold `key` until this transaction ends: writers that lock the same key go one at a time.

        Read-then-write use cases (an idempotency key, a conversation, a PATCH) lock what they read. On
        SQLite every write transaction already excludes all others, so this costs nothing there.
        """


@dataclasses.dataclass(frozen=True)
class Claim:
    """What a claim asks for: up to `limit` due rows, each webhook kept within `per_webhook` in flight."""

    now_ms: int
    lease_until_ms: int
    owner: str
    limit: int
    per_webhook: int
    in_flight: Mapping[str, int]  # this process's deliveries per webhook (it may count ones the database does not)
    working: Collection[str]  # requests this process is still delivering: never taken a second time


class Database(Protocol):
    clock: Callable[[], float]  # unix time; tests may replace it
    row_lock: str  # as Transaction.row_lock, for a statement of a group-committed write
    ascii_lower: str
    """SQL that lower-cases the text of `{}` in ASCII only, as searches promise on both engines: SQLite's lower()
    does just that; PostgreSQL's follows the database's locale unless told the C collation."""

    def now(self) -> int:
        """The clock's time in whole seconds."""

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """Run one use case's statements atomically."""

    async def insert(self, sql: str, params: tuple[Any, ...]) -> None:
        """Insert one row (`INSERT INTO t (…) VALUES (…)`, each value a `?` or a constant; parameters as
        `write` takes them), committed when this returns, group-committed with concurrent writers."""

    async def write(self, *statements: Statement, purges: bool = False) -> list[int]:
        """Run statements in order in one transaction shared with concurrent writers; return their rowcounts.

        Parameters are None, bool, int, float, str, bytes or a list of str, each of its column's type: on
        PostgreSQL a `?` takes its value's type (postgres/batches.py), where SQLite takes anything.

        With `purges`, the statements erase content: the engine makes sure no old copy of it outlives the
        erase window, even if this caller has given up by then.
        """

    async def one(self, sql: str, params: tuple[Any, ...]) -> Row | None:
        """A point lookup by key: one row or none."""

    async def read(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        """A small indexed read (a few rows by key)."""

    async def all(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        """A list query: committed data only."""

    async def claim(self, claim: Claim) -> list[Row]:
        """Lease due rows of message_requests as `claim` asks, writing what requests.CLAIM_SET says, and return
        them (requests.COLUMNS of each, at least), in one atomic step no other process can share."""

    def notify_due(self, when: float) -> None:
        """Tell the other processes on this database that work is due at `when` (a unix time), if it can."""

    def on_due(self, wake: Callable[[float], None]) -> None:
        """Call `wake(when)` when another process announces work due at `when`, if the engine can hear it."""

    def content_purged(self) -> None:
        """Note that a committed write purged content, so the engine erases its old copies in time."""

    def erasure_overdue(self) -> float:
        """Seconds the oldest purged content still kept in a file has outlived the erase window (0: none has)."""

    async def checkpoint(self) -> bool:
        """Do the engine's periodic upkeep for erased content; False if it could not complete (retried later)."""

    async def close(self) -> None:
        """Close the connections now (opening's context also closes them; closing twice is harmless)."""

    async def ping(self) -> None:
        """Raise UnavailableError unless the database answers a trivial query."""

    async def check_writable(self) -> None:
        """Raise UnavailableError unless a write transaction commits."""
