"""Reach the test's database behind the server's back, on whichever engine its settings name."""

from __future__ import annotations

import sqlite3

import asyncpg

from novaro_lite.config.settings import Settings


async def execute_directly(settings: Settings, *statements: str) -> None:
    """Run statements on a connection of our own (as another program sharing the database would)."""
    if not settings.database_url:
        with sqlite3.connect(settings.database_path) as connection:
            for statement in statements:
                connection.execute(statement)
        return
    connection = await asyncpg.connect(settings.database_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def holders_of(settings: Settings, text: str) -> list[str]:
    """What of the database holds `text`: SQLite's files (database, WAL, shared memory), byte for byte; on
    PostgreSQL, the tables with a row that contains it."""
    if not settings.database_url:
        return [path.name for path in settings.data_dir.iterdir() if text.encode() in path.read_bytes()]
    connection = await asyncpg.connect(settings.database_url)
    try:
        tables = [
            row[0] for row in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return [
            table
            for table in tables
            if await connection.fetchval(f"SELECT count(*) FROM {table} AS t WHERE strpos(t::text, $1) > 0", text)
        ]
    finally:
        await connection.close()
