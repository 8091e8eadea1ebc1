"""One clock for the queue on PostgreSQL: a server whose clock is off the database server's by more than
MAX_CLOCK_SKEW refuses to start, and `db check` shows the difference (docs: operating)."""

from __future__ import annotations

import re
import time

import asyncpg
import pytest
from click.testing import CliRunner

from novaro_lite.cli.main import main
from novaro_lite.errors import UnavailableError
from novaro_lite.storage.postgres import database as pgdb
from novaro_lite.storage.store import Storage
from tests.fakes.postgres import LocalPostgres

pytestmark = pytest.mark.anyio


def skew_in(message: str) -> float:
    found = re.search(r"this machine's clock is ([+-][\d.]+) s off the PostgreSQL server's", message)
    assert found, message
    return float(found.group(1))


async def test_the_skew_is_measured_against_the_database_servers_clock(postgres: LocalPostgres):
    connection = await asyncpg.connect(postgres.shared)
    try:
        assert abs(await pgdb.clock_skew(connection)) < 0.5  # one machine: the same clock
        assert await pgdb.clock_skew(connection, lambda: time.time() + 30) == pytest.approx(30, abs=0.5)
        assert await pgdb.clock_skew(connection, lambda: time.time() - 30) == pytest.approx(-30, abs=0.5)
    finally:
        await connection.close()


@pytest.mark.parametrize("off", [+3.0, -3.0])
async def test_a_server_whose_clock_is_off_refuses_to_start(
    postgres: LocalPostgres, monkeypatch: pytest.MonkeyPatch, off: float
):
    measure = pgdb.clock_skew
    monkeypatch.setattr(pgdb, "clock_skew", lambda connection: measure(connection, lambda: time.time() + off))
    with pytest.raises(UnavailableError) as refused:
        async with Storage.open(postgres.shared, time.time):
            pass
    assert skew_in(refused.value.detail) == pytest.approx(off, abs=0.5)
    monkeypatch.setattr(pgdb, "clock_skew", lambda connection: measure(connection, lambda: time.time() + 0.5))
    async with Storage.open(postgres.shared, time.time):  # within the limit
        pass


def test_db_check_shows_the_clock_and_fails_past_the_limit(postgres: LocalPostgres, monkeypatch: pytest.MonkeyPatch):
    env = {"NOVARO_LITE_CONFIG": "", "NOVARO_LITE_DATABASE_URL": postgres.new_database()}
    CliRunner().invoke(main, ["db", "migrate"], env=env)
    result = CliRunner().invoke(main, ["db", "check"], env=env)
    assert result.exit_code == 0, result.output
    assert "clock: 0.0" in result.output and "the database server's (ok)" in result.output
    measure = pgdb.clock_skew
    monkeypatch.setattr(pgdb, "clock_skew", lambda connection: measure(connection, lambda: time.time() - 5))
    result = CliRunner().invoke(main, ["db", "check"], env=env)
    assert result.exit_code == 1
    assert skew_in(result.output) == pytest.approx(-5, abs=0.5)
