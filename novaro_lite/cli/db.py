"""`novaro-lite db`: check the database and migrate its schema, on either engine."""

from __future__ import annotations

import asyncio
import sys
import time

import click

from novaro_lite.cli.common import settings_options
from novaro_lite.cli.terminal import CliError, say
from novaro_lite.config.settings import Settings
from novaro_lite.errors import AppError
from novaro_lite.storage.store import Storage, describe, schema_versions


def _versions(settings: Settings) -> tuple[int, int]:
    try:
        return asyncio.run(schema_versions(settings.database))
    except AppError as exc:
        raise CliError(exc.detail) from None


@click.group()
def db() -> None:
    """Check the database and migrate its schema (SQLite, or PostgreSQL with database_url)."""


@db.command("check")
@settings_options
def db_check(settings: Settings) -> None:
    """Say whether the database answers and its schema is this version's; exit 1 if it needs migrating.

    Changes nothing. Servers migrate at start by themselves; run this before an upgrade, or from a health
    check of your deployment.

    \b
    Example:
        NOVARO_LITE_DATABASE_URL=postgresql://novaro@db/novaro novaro-lite db check
    """
    current, latest = _versions(settings)
    say(f"{describe(settings.database)}: schema version {current}, this novaro-lite needs {latest}")
    if current > latest:
        raise CliError("the database is newer than this novaro-lite: run the newer version")
    if current < latest:
        say(f"{latest - current} migration(s) to apply: run 'novaro-lite db migrate' (or start a server)")
        sys.exit(1)
    say("up to date")


@db.command("migrate")
@settings_options
def db_migrate(settings: Settings) -> None:
    """Bring the schema to this version (servers starting at the same time wait, then find nothing to do).

    \b
    Example:
        novaro-lite db migrate --config /etc/novaro-lite/config.toml
    """
    before, latest = _versions(settings)

    async def migrate() -> None:
        async with Storage.open(settings.database, time.time, pool_size=1):
            pass

    try:
        asyncio.run(migrate())
    except AppError as exc:
        raise CliError(exc.detail) from None
    after, _ = _versions(settings)
    say(f"{describe(settings.database)}: schema version {before} -> {after} ({after - before} migration(s) applied)")
