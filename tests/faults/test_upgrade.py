"""Upgrades: databases left by earlier versions (tests/faults/upgrades/, made by make_fixture.py) migrate
forward when the current server starts, on each engine, and their pending requests are delivered.

Each schema version has a fixture, the current one included, so the version before always has one when
a migration is added. About 3-5 s per fixture (a real server starts on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from novaro_lite.storage.postgres.schema import MIGRATIONS as POSTGRES
from novaro_lite.storage.sqlite.schema import MIGRATIONS as SQLITE
from tests.e2e.server import running_server
from tests.e2e.test_async_delivery import api_client
from tests.fakes.postgres import LocalPostgres
from tests.fakes.receiver import Receiver
from tests.fakes.serve import serve_in_thread

FIXTURES = Path(__file__).parent / "upgrades"
LATEST = {"sqlite": len(SQLITE), "postgres": len(POSTGRES)}
NAME = re.compile(r"(sqlite|postgres)-v(\d+)\.sql")


def fixtures() -> list[tuple[str, int]]:
    found = [NAME.fullmatch(path.name) for path in sorted(FIXTURES.glob("*.sql"))]
    return [(match.group(1), int(match.group(2))) for match in found if match]


def test_the_current_schema_version_and_the_one_before_have_fixtures():
    have = set(fixtures())
    for engine, latest in LATEST.items():
        for version in (latest - 1, latest):
            assert version < 1 or (engine, version) in have, (
                f"no fixture of a {engine} database at schema version {version}: make it with"
                f" `python -m tests.faults.upgrades.make_fixture {engine}` (--code DIR for an older version's tree)"
            )


def load(engine: str, version: int, tmp_path: Path, postgres: LocalPostgres | None, hook_url: str) -> dict[str, str]:
    """Load the fixture into a new database with its webhook pointed at `hook_url`; return the server's env."""
    dump = (FIXTURES / f"{engine}-v{version}.sql").read_text()
    point = ("UPDATE webhooks SET url = ?", (hook_url,))
    if engine == "sqlite":
        (tmp_path / "data").mkdir(mode=0o700)
        with contextlib.closing(sqlite3.connect(tmp_path / "data" / "novaro.db", isolation_level=None)) as db:
            db.executescript(dump)
            assert db.execute("PRAGMA user_version").fetchone()[0] == version
            db.execute(*point)
        return {}
    assert postgres is not None
    url = postgres.new_database()

    async def restore() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(dump)
            assert await connection.fetchval("SELECT max(version) FROM public.schema_version") == version
            await connection.execute("UPDATE public.webhooks SET url = $1", hook_url)
        finally:
            await connection.close()

    asyncio.run(restore())
    return {"NOVARO_LITE_DATABASE_URL": url}


@pytest.mark.parametrize(
    ("engine", "version"),
    [
        pytest.param(engine, version, id=f"{engine}-v{version}", marks=[pytest.mark.postgres] * (engine == "postgres"))
        for engine, version in fixtures()
    ],
)
def test_a_database_of_an_earlier_version_migrates_and_delivers_its_pending_requests(
    engine: str, version: int, tmp_path: Path, request: pytest.FixtureRequest
):
    made: dict[str, Any] = json.loads((FIXTURES / f"{engine}-v{version}.json").read_text())
    postgres = request.getfixturevalue("postgres") if engine == "postgres" else None
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as receiver_url:
        env = load(engine, version, tmp_path, postgres, f"{receiver_url}/hook")
        config = tmp_path / "novaro.toml"
        config.write_text('log_level = "info"\n\n[webhooks]\nallow_private_networks = true\n')
        args = ["--config", str(config), "--data-dir", str(tmp_path / "data")]
        with running_server(args, cwd=tmp_path, env=env) as server, api_client(server, made["token"]) as api:
            receipts = receiver.wait_for(len(made["pending"]), timeout=30)
            assert sorted(receipt.webhook_id for receipt in receipts) == sorted(made["pending"])
            for request_id in made["pending"]:
                done = api.wait_status(request_id, "delivered", timeout=30)
                assert done["agentId"] == made["agent"] and done["webhookId"] == made["webhook"]
                assert done["readAt"] is not None  # the latest columns exist and are written (issue 26)
            agents = api.client.get("/api/v1/agents")
            assert agents.status_code == 200 and [a["id"] for a in agents.json()["data"]] == [made["agent"]]
