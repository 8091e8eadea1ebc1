"""`novaro-lite db check|migrate`, and the other commands on either engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from novaro_lite.cli.main import main
from tests.conftest import ENGINES
from tests.fakes.postgres import LocalPostgres


@pytest.fixture(params=ENGINES)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment that points the commands at a new, empty database of each engine."""
    if request.param == "sqlite":
        return {"NOVARO_LITE_DATA_DIR": str(tmp_path / "data")}
    postgres: LocalPostgres = request.getfixturevalue("postgres")
    # pgserver trusts local connections, so any password is accepted: it must never be printed.
    url = postgres.new_database().replace("postgres:@", "postgres:hunter2@")
    return {"NOVARO_LITE_DATABASE_URL": url}


def run(where: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"NOVARO_LITE_CONFIG": "", **where})
    assert "Traceback" not in result.output and "hunter2" not in result.output, result.output
    return result.exit_code, result.output


def test_check_then_migrate_then_check(where):
    code, output = run(where, "db", "check")
    assert code == 1 and "schema version 0" in output and "to apply" in output
    code, output = run(where, "db", "migrate")
    assert code == 0 and "schema version 0 -> " in output, output
    applied = int(output.split("-> ")[1].split()[0])
    assert applied > 0
    code, output = run(where, "db", "check")
    assert code == 0 and output.rstrip().endswith("up to date") and f"schema version {applied}," in output
    code, output = run(where, "db", "migrate")
    assert code == 0 and f"{applied} -> {applied} (0 migration(s) applied)" in output


def test_every_command_works_on_either_engine(where):
    code, output = run(where, "token", "create", "--name", "ci")
    assert code == 0, output
    code, output = run(where, "token", "list")
    assert code == 0 and "ci" in output
    code, output = run(where, "agent", "create", "--name", "Ada")
    assert code == 0, output
    code, output = run(where, "agent", "list")
    assert code == 0 and "Ada" in output


def test_a_database_newer_than_this_version_is_refused(postgres: LocalPostgres):
    url = postgres.new_database()
    assert run({"NOVARO_LITE_DATABASE_URL": url}, "db", "migrate")[0] == 0

    async def from_the_future() -> None:
        import asyncpg

        connection = await asyncpg.connect(url)
        await connection.execute("INSERT INTO schema_version (version) VALUES (999)")
        await connection.close()

    asyncio.run(from_the_future())
    code, output = run({"NOVARO_LITE_DATABASE_URL": url}, "db", "check")
    assert code == 1 and "newer than this novaro-lite" in output
    code, output = run({"NOVARO_LITE_DATABASE_URL": url}, "token", "list")
    assert code == 1 and "newer than this novaro-lite knows" in output


def test_an_unreachable_database_is_a_clear_error_without_the_password(tmp_path: Path):
    url = f"postgresql://novaro:hunter2@/novaro?host={tmp_path}&port=1"
    code, output = run({"NOVARO_LITE_DATABASE_URL": url}, "db", "check")
    assert code == 1 and "cannot connect to PostgreSQL" in output
    code, output = run({"NOVARO_LITE_DATABASE_URL": url}, "token", "list")
    assert code == 1 and "cannot connect to PostgreSQL" in output


@pytest.mark.parametrize(
    "form",
    ["postgres:hunter2@", "postgres:hun@ter2@", "query"],
    ids=["userinfo", "unencoded-at", "query-parameter"],
)
def test_a_password_is_never_printed_however_the_url_carries_it(postgres: LocalPostgres, form: str):
    url = postgres.new_database()
    if form == "query":
        url += "&password=hunter2"
    else:
        url = url.replace("postgres:@", form)
    code, output = run({"NOVARO_LITE_DATABASE_URL": url}, "db", "check")
    assert code == 1 and "ter2" not in output, output
