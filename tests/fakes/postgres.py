"""A real PostgreSQL for the tests: the pgserver wheel's PostgreSQL 16, started once per test session.

No Docker and no root: the server runs from the wheel in a temporary directory and listens on a unix
socket only. Tests share one database, emptied before each test that asks for it: a DELETE of each table costs a
millisecond or two, where a CREATE DATABASE or a TRUNCATE costs ~0.1 s here. A test that changed the
schema (dropped a table, added a trigger) leaves it to be rebuilt from scratch by the next one; a test that
needs a database of its own (migrations, several servers) asks for `new_database()`.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import warnings
from pathlib import Path

import asyncpg

# Every table of ours, children before the tables they reference (the order DELETE empties them in).
TABLES = (
    "agent_contexts",
    "chat_group_members",
    "agent_avatars",
    "tokens",
    "agents",
    "chat_groups",
    "webhooks",
    "message_requests",
    "delivery_attempts",
    "contexts",
    "presence",
    "user_writes",
    "check_in_rules",
)
FUNCTIONS = ("novaro_claim", "novaro_run")  # storage/postgres/batches.py
# The public schema as our migrations leave it: our tables, schema_version and functions, no triggers.
INTACT = f"""
    SELECT (SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public')
        = {"ARRAY" + str(sorted((*TABLES, "schema_version")))}
    AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal)
    AND (SELECT array_agg(proname::text ORDER BY proname) FROM pg_proc JOIN pg_namespace
         ON pg_namespace.oid = pronamespace WHERE nspname = 'public') = {"ARRAY" + str(list(FUNCTIONS))}
"""


class LocalPostgres:
    def __init__(self, root: Path) -> None:
        with warnings.catch_warnings():  # platformdirs warns, on import, that XDG_RUNTIME_DIR is not set
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server

        self._server = get_server(root, cleanup_mode="stop")
        self._names = itertools.count()
        self.shared = self.new_database()

    def url(self, database: str) -> str:
        return str(self._server.get_uri(database))

    def new_database(self) -> str:
        """A new, empty database's URL."""
        name = f"novaro_{next(self._names)}"
        self._server.psql(f"CREATE DATABASE {name};")  # psql, a subprocess: callable inside a running event loop
        return self.url(name)

    def empty_shared(self) -> str:
        """The shared database's URL, with every table of ours emptied (created at its first use)."""
        asyncio.run(self._empty())
        return self.shared

    async def _empty(self) -> None:
        connection = await asyncpg.connect(self.shared)
        try:
            if await connection.fetchval("SELECT to_regclass('schema_version') IS NULL"):
                return  # not migrated yet: the test's server does it
            if await connection.fetchval(INTACT):
                await connection.execute("; ".join(f"DELETE FROM {table}" for table in TABLES))
            else:
                await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await connection.close()

    def stop(self) -> None:
        self._server.cleanup()


class StoppablePostgres:
    """A PostgreSQL of one test's own, which the test stops (as an operator or a crash would) and starts again
    at the same address."""

    def __init__(self, root: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server

        self._server = get_server(root, cleanup_mode="stop")
        self.url = str(self._server.get_uri("postgres"))

    def stop(self, mode: str) -> None:
        """`pg_ctl stop -m MODE`: "fast" ends every session cleanly, "immediate" kills them as a crash would."""
        from pgserver._commands import POSTGRES_BIN_PATH

        command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self._server.pgdata), "-w", "-m", mode, "stop"]
        subprocess.run(command, user=self._server.system_user, check=True, capture_output=True, timeout=30)

    def start(self) -> None:
        self._server.ensure_postgres_running()
        assert str(self._server.get_uri("postgres")) == self.url, "PostgreSQL came back at another address"

    def cleanup(self) -> None:
        self._server.cleanup()
