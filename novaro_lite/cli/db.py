"""`novaro-lite db`: check the database, migrate its schema and back it up, on either engine."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import click

from novaro_lite.cli.common import settings_options
from novaro_lite.cli.terminal import CliError, say
from novaro_lite.config.settings import Settings
from novaro_lite.errors import AppError
from novaro_lite.storage.store import Storage, backup, check_clock, describe, is_postgres, schema_versions


def _versions(settings: Settings) -> tuple[int, int]:
    try:
        return asyncio.run(schema_versions(settings.database))
    except AppError as exc:
        raise CliError(exc.detail) from None


@click.group()
def db() -> None:
    """Check the database, migrate its schema and back it up (SQLite, or PostgreSQL with database_url)."""


@db.command("check")
@settings_options
def db_check(settings: Settings) -> None:
    """Say whether the database answers and its schema is this version's; exit 1 if it needs migrating.

    On PostgreSQL, also how far this machine's clock is from the database server's: servers refuse to
    start past 1 s, since every server compares due times and leases with the others'.

    Changes nothing. Servers migrate at start by themselves; run this before an upgrade, or from a health
    check of your deployment.

    \b
    Example:
        NOVARO_LITE_DATABASE_URL=postgresql://novaro@db/novaro novaro-lite db check
    """
    current, latest = _versions(settings)
    say(f"{describe(settings.database)}: schema version {current}, this novaro-lite needs {latest}")
    try:
        skew = asyncio.run(check_clock(settings.database))
    except AppError as exc:
        raise CliError(exc.detail) from None
    if skew is not None:
        say(f"clock: {abs(skew):.3f} s {'ahead of' if skew >= 0 else 'behind'} the database server's (ok)")
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


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@settings_options
def db_backup(settings: Settings, path: Path) -> None:
    """Copy the live SQLite database to PATH, a new file, while servers keep running.

    The copy is consistent and takes well under a second; it holds the pending requests with their
    content, so keep it as private as the data directory. To restore: stop the servers, put the copy in
    place of novaro.db in the data directory (removing novaro.db-wal and novaro.db-shm), start again.
    On PostgreSQL, use pg_dump and pg_restore instead.

    \b
    Example:
        novaro-lite db backup /var/backups/novaro-lite/novaro-$(date +%F).db
    """
    if is_postgres(settings.database):
        raise CliError(
            "the database is PostgreSQL: back it up with pg_dump (e.g. pg_dump --format=custom --file=novaro.dump"
            " 'postgresql://…'), restore with pg_restore into an empty database"
        )
    source = Path(settings.database)
    if not source.exists():
        raise CliError(f"there is no database at {source}")
    began = time.monotonic()
    try:
        backup(source, path)
    except AppError as exc:
        raise CliError(exc.detail) from None
    except OSError as exc:
        raise CliError(f"the backup failed: {exc}") from None
    took = time.monotonic() - began
    size = path.stat().st_size / 1e6
    say(f"{describe(source)} backed up to {path} ({size:.1f} MB in {took:.2f} s)")
