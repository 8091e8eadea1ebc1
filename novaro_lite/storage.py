"""Storage: the only module that imports aiosqlite or holds SQL.

One aiosqlite connection per process for writes and list queries, WAL, foreign keys on, a busy timeout so
the CLI and a running server share the file, and writes serialised through `transaction()`. The schema
moves forward by `PRAGMA user_version`: MIGRATIONS[i] takes version i to i + 1. Methods take and return
domain dataclasses.

Point lookups by key (the token on every request, the agent) run on a second, plain sqlite3 connection
on the event loop's own thread: in WAL mode a reader never waits for a writer, and an indexed lookup
takes microseconds, while a trip to aiosqlite's thread waits for the GIL behind a busy event loop
(measured: the hop capped realtime throughput near 400 requests/s; see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import aiosqlite

from novaro_lite.domain.agents import ActiveHours, Agent, AgentFields, ResponseBand, field_values
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.tokens import DISPLAY_PREFIX_CHARS, Token, hash_token, mint_token
from novaro_lite.errors import NotFoundError, UnavailableError, ValidationError

BUSY_TIMEOUT_MS = 5000
TOKEN_TOUCH_INTERVAL = 60  # seconds; last_used_at is refreshed at most this often, so auth rarely writes

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        account TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        expires_at INTEGER,
        revoked_at INTEGER
    );
    CREATE TABLE agents (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        persona TEXT NOT NULL,
        location TEXT,
        timezone TEXT NOT NULL,
        language TEXT NOT NULL,
        active_start TEXT NOT NULL,
        active_end TEXT NOT NULL,
        response_times TEXT,
        model TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX agents_by_account ON agents (account, seq);
    """,
    """
    ALTER TABLE agents ADD COLUMN max_bubbles INTEGER NOT NULL DEFAULT 3;
    """,
)

_AGENT_COLUMNS = (
    "id, account, name, persona, location, timezone, language, active_start, active_end, "
    "response_times, model, max_bubbles, created_at, updated_at"
)


T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    """Turn a cursor from a previous page back into its position; 0 (the start) when there is none."""
    if not cursor:
        return 0
    try:
        kind, _, seq = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        if kind == "seq" and seq.isdigit():
            return int(seq)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ValidationError(
        "The cursor is not one this server handed out; pass nextCursor from the previous page.",
        errors=[{"loc": ["query", "cursor"], "msg": "not a cursor from a previous page"}],
    )


def _page(rows: list[sqlite3.Row], limit: int, build: Callable[[sqlite3.Row], T]) -> Page[T]:
    """Make a page from up to limit + 1 rows selected with their `seq`: the extra row says there is more."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([build(row) for row in rows], _encode_cursor(rows[-1]["seq"]) if more else None)


def _create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


def _agent_row(agent: Agent) -> tuple[Any, ...]:
    bands = (
        None
        if agent.response_times is None
        else json.dumps([[band.up_to_seconds, band.probability] for band in agent.response_times])
    )
    return (
        agent.id,
        agent.account,
        agent.name,
        agent.persona,
        agent.location,
        agent.timezone,
        agent.language,
        agent.active_hours.start,
        agent.active_hours.end,
        bands,
        agent.model,
        agent.max_bubbles,
        agent.created_at,
        agent.updated_at,
    )


def _agent(row: sqlite3.Row) -> Agent:
    bands = row["response_times"]
    return Agent(
        id=row["id"],
        account=row["account"],
        name=row["name"],
        persona=row["persona"],
        location=row["location"],
        timezone=row["timezone"],
        language=row["language"],
        active_hours=ActiveHours(row["active_start"], row["active_end"]),
        response_times=None if bands is None else tuple(ResponseBand(up, p) for up, p in json.loads(bands)),
        model=row["model"],
        max_bubbles=row["max_bubbles"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _token(row: sqlite3.Row) -> Token:
    return Token(**{field.name: row[field.name] for field in dataclasses.fields(Token)})


class Storage:
    def __init__(
        self, connection: aiosqlite.Connection, reader: sqlite3.Connection, clock: Callable[[], float]
    ) -> None:
        self._db = connection
        self._reader = reader
        self._clock = clock
        self._write_lock = asyncio.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: Path, clock: Callable[[], float]) -> AsyncIterator[Storage]:
        """Open (creating and migrating if needed) the database at `path`."""
        _create_private_file(path)
        connection = await aiosqlite.connect(path, isolation_level=None)
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            connection.row_factory = reader.row_factory = sqlite3.Row
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            storage = cls(connection, reader, clock)
            await storage._migrate()
            yield storage
        finally:
            reader.close()
            await connection.close()

    async def close(self) -> None:
        """Close the connections now; open() also closes them on exit, and closing twice is harmless."""
        self._reader.close()
        await self._db.close()

    def now(self) -> int:
        return int(self._clock())

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run one use case's writes atomically; writers in this process queue on a lock."""
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _migrate(self) -> None:
        async with self.transaction() as db:
            async with db.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
            version = row[0] if row else 0
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def ping(self) -> None:
        """Raise UnavailableError unless the database answers a trivial query."""
        try:
            async with self._db.execute("SELECT count(*) FROM sqlite_master") as cursor:
                await cursor.fetchone()
        except (sqlite3.Error, ValueError) as exc:
            raise UnavailableError(f"the database is unusable: {exc}") from exc

    def _one(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Row | None:
        """A point lookup on the loop-thread reader: only for indexed queries that return one row."""
        row: sqlite3.Row | None = self._reader.execute(sql, params).fetchone()
        return row

    async def _all(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        # One trip to aiosqlite's thread; execute + fetch + close as separate awaits would be three.
        return list(await self._db.execute_fetchall(sql, params))

    # tokens

    async def create_token(self, name: str, account: str, expires_in: int | None) -> tuple[Token, str]:
        """Mint a token and store its hash; return the metadata and the secret, which is not kept."""
        secret = mint_token()
        now = self.now()
        token = Token(
            id=new_id("tok", now),
            name=name,
            account=account,
            prefix=secret[:DISPLAY_PREFIX_CHARS],
            created_at=now,
            last_used_at=None,
            expires_at=None if expires_in is None else now + expires_in,
            revoked_at=None,
        )
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO tokens (id, name, account, token_hash, prefix, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token.id, name, account, hash_token(secret), token.prefix, now, token.expires_at),
            )
        return token, secret

    async def count_tokens(self) -> int:
        row = self._one("SELECT count(*) FROM tokens", ())
        return int(row[0]) if row else 0

    async def list_tokens(self) -> list[Token]:
        return [_token(row) for row in await self._all("SELECT * FROM tokens ORDER BY id", ())]

    async def find_token(self, token_hash: str) -> Token | None:
        row = self._one("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else _token(row)

    async def revoke_token(self, token_id: str) -> Token:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (self.now(), token_id)
            )
        row = self._one("SELECT * FROM tokens WHERE id = ?", (token_id,))
        if row is None:
            raise NotFoundError(f"There is no token with id {token_id!r}.")
        return _token(row)

    async def touch_token(self, token: Token) -> None:
        """Record that the token was used, at most once per TOKEN_TOUCH_INTERVAL."""
        now = self.now()
        if token.last_used_at is not None and now - token.last_used_at < TOKEN_TOUCH_INTERVAL:
            return
        async with self.transaction() as db:
            await db.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, token.id))

    # agents

    async def create_agent(self, account: str, fields: AgentFields) -> Agent:
        now = self.now()
        agent = Agent(**field_values(fields), id=new_id("agt", now), account=account, created_at=now, updated_at=now)
        async with self.transaction() as db:
            await db.execute(f"INSERT INTO agents ({_AGENT_COLUMNS}) VALUES ({', '.join('?' * 14)})", _agent_row(agent))
        return agent

    async def get_agent(self, account: str, agent_id: str) -> Agent:
        row = self._one(f"SELECT {_AGENT_COLUMNS} FROM agents WHERE account = ? AND id = ?", (account, agent_id))
        if row is None:
            raise NotFoundError(f"There is no agent with id {agent_id!r}.")
        return _agent(row)

    async def list_agents(self, account: str, *, limit: int, cursor: str | None = None) -> Page[Agent]:
        """Return up to `limit` agents in creation order, starting after `cursor` (from the previous page)."""
        rows = await self._all(
            f"SELECT seq, {_AGENT_COLUMNS} FROM agents WHERE account = ? AND seq > ? ORDER BY seq LIMIT ?",
            (account, _decode_cursor(cursor), limit + 1),
        )
        return _page(rows, limit, _agent)

    async def update_agent(self, account: str, agent_id: str, changes: dict[str, Any]) -> Agent:
        """Apply `changes` (AgentFields names to new values) to an agent and return the result."""
        async with self.transaction() as db:
            agent = dataclasses.replace(await self.get_agent(account, agent_id), **changes, updated_at=self.now())
            columns = _AGENT_COLUMNS.split(", ")
            await db.execute(
                f"UPDATE agents SET {', '.join(f'{column} = ?' for column in columns)} WHERE id = ?",
                (*_agent_row(agent), agent.id),
            )
        return agent

    async def delete_agent(self, account: str, agent_id: str) -> None:
        async with self.transaction() as db:
            cursor = await db.execute("DELETE FROM agents WHERE account = ? AND id = ?", (account, agent_id))
        if cursor.rowcount == 0:
            raise NotFoundError(f"There is no agent with id {agent_id!r}.")
