"""The schema, as migrations: MIGRATIONS[i] takes `PRAGMA user_version` i to i + 1. Never edit a shipped one."""

from __future__ import annotations

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
