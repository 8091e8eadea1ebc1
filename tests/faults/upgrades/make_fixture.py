"""Make a fixture of a database as some version of novaro-lite leaves it: python -m tests.faults.upgrades.make_fixture.

    python -m tests.faults.upgrades.make_fixture sqlite [--code DIR]
    python -m tests.faults.upgrades.make_fixture postgres [--code DIR]

It starts `novaro-lite serve` from DIR (default: this checkout; for an older version, a tree of an older
commit: `git archive COMMIT | tar -x -C DIR`), creates through its API what a user has (a token, an agent,
a webhook, PENDING requests waiting for their delay), stops it, moves the requests' due time into the
past (as if the server had been down since), and writes `<engine>-v<schema version>.sql` (a dump) and
`.json` (the token and ids) here. Run it whenever a migration is added (test_upgrade.py asks for it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.e2e.server import running_server
from tests.fakes.postgres import LocalPostgres

HERE = Path(__file__).parent
PENDING = 3
PLACEHOLDER_HOOK = "http://127.0.0.1:9/hook"  # the tests point it at their receiver
PG_DUMP = ["--inserts", "--no-owner", "--no-privileges", "--no-comments", "--no-publications", "--no-subscriptions"]


def populate(url: str, token: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        agent = client.post(
            "/api/v1/agents",
            json={"name": "Lena", "timezone": "Europe/Berlin", "activeHours": {"start": "00:00", "end": "23:59"}},
        )
        assert agent.status_code == 201, agent.text
        webhook = client.post("/api/v1/webhooks", json={"url": PLACEHOLDER_HOOK})
        assert webhook.status_code == 201, webhook.text
        pending = []
        for n in range(PENDING):
            body = {"agentId": agent.json()["id"], "webhookId": webhook.json()["id"], "reference": f"ref-{n}",
                    "messages": [{"role": "user", "content": f"Are you open tomorrow? ({n})"}],
                    "delay": {"seconds": 3600}}  # fmt: skip
            accepted = client.post("/api/v1/message-requests", json=body)
            assert accepted.status_code == 202, accepted.text
            pending.append(accepted.json()["id"])
    return {"token": token, "agent": agent.json()["id"], "webhook": webhook.json()["id"], "pending": pending}


MAKE_DUE = "UPDATE message_requests SET due_ms = due_ms - 7200000, scheduled_for = scheduled_for - 7200"


def serve(code: Path, work: Path, env: dict[str, str]) -> dict[str, Any]:
    config = work / "novaro.toml"
    config.write_text('log_level = "info"\n\n[webhooks]\nallow_private_networks = true\n')
    args = ["--config", str(config), "--data-dir", str(work / "data")]
    with running_server(args, cwd=work, env={"PYTHONPATH": str(code), **env}) as server:
        assert server.first_token, "".join(server.output)
        return populate(server.url, server.first_token)


def make_sqlite(code: Path, work: Path) -> tuple[int, str, dict[str, Any]]:
    made = serve(code, work, {})
    with contextlib.closing(sqlite3.connect(work / "data" / "novaro.db", isolation_level=None)) as db:
        db.execute(MAKE_DUE)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        dump = "\n".join(db.iterdump()) + f"\nPRAGMA user_version = {version};\n"
    return version, dump, made


def make_postgres(code: Path, work: Path) -> tuple[int, str, dict[str, Any]]:
    postgres = LocalPostgres(work / "postgres")
    try:
        url = postgres.new_database()
        made = serve(code, work, {"NOVARO_LITE_DATABASE_URL": url})

        async def finish() -> int:
            connection = await asyncpg.connect(url)
            try:
                await connection.execute(MAKE_DUE)
                return int(await connection.fetchval("SELECT max(version) FROM schema_version"))
            finally:
                await connection.close()

        version = asyncio.run(finish())
        from pgserver._commands import POSTGRES_BIN_PATH

        dump = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_dump"), *PG_DUMP, url], check=True, capture_output=True, text=True
        ).stdout
    finally:
        postgres.stop()
    return version, dump, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=("sqlite", "postgres"))
    parser.add_argument("--code", type=Path, default=Path.cwd(), help="a tree of the novaro-lite to make it with")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        make = make_sqlite if options.engine == "sqlite" else make_postgres
        version, dump, made = make(options.code.resolve(), Path(work))
    name = HERE / f"{options.engine}-v{version}"
    name.with_suffix(".sql").write_text(dump)
    name.with_suffix(".json").write_text(json.dumps(made, indent=2) + "\n")
    print(f"wrote {name}.sql and {name}.json", file=sys.stderr)


if __name__ == "__main__":
    main()
