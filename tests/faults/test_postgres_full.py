"""A full disk under PostgreSQL, made without mounts: a trigger raises the error PostgreSQL raises when it cannot
extend a table's file, SQLSTATE 53100 (disk_full), on every insert into message_requests.

That is the real server-side error, through the real driver, so the test covers everything of ours from
there to the client. What it does not show is PostgreSQL raising it; a tablespace on a full 3 MB tmpfs (root
and a mount needed, so not here) raised the same: accepts answered 507, /readyz 200 until the fix below.
"""

from __future__ import annotations

import httpx
import pytest

from novaro_lite.config.settings import Settings
from novaro_lite.storage.postgres import database
from tests.conftest import loopback_settings
from tests.fakes.engines import execute_directly
from tests.fakes.postgres import LocalPostgres
from tests.faults.test_sqlite_full import request_body
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
DISK_FULL = (
    "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " RAISE EXCEPTION 'could not extend file \"base/1/2\": No space left on device'"
    " USING ERRCODE = 'disk_full', HINT = 'Check free disk space.'; END $$",
    "CREATE TRIGGER disk_full BEFORE INSERT ON message_requests FOR EACH ROW EXECUTE FUNCTION disk_full()",
)
SPACE_FREED = ("DROP TRIGGER disk_full ON message_requests", "DROP FUNCTION disk_full()")


@pytest.fixture
def settings(tmp_path, postgres: LocalPostgres) -> Settings:
    return loopback_settings(tmp_path, database_url=postgres.new_database())


async def test_postgresql_full_disk_answers_507_fails_readiness_keeps_reading_and_recovers(
    client: httpx.AsyncClient, auth, receiver, settings, monkeypatch
):
    body = await request_body(client, auth, receiver[0])
    before = await client.post("/api/v1/message-requests", json=body, headers=auth)
    assert before.status_code == 202, before.text
    await execute_directly(settings, *DISK_FULL)

    response = await client.post("/api/v1/message-requests", json=body, headers=auth)
    problem = assert_problem(response, 507, "disk is full")
    assert problem["type"] == "/problems/storage-full"
    assert "retry-after" not in response.headers
    ready = await client.get("/readyz")  # its own probe stores nothing, and commits on a full disk
    assert ready.status_code == 503 and ready.json()["database"] == "unavailable"
    assert (await client.get(f"/api/v1/agents/{body['agentId']}", headers=auth)).status_code == 200
    assert (await client.get(f"/api/v1/message-requests/{before.json()['id']}", headers=auth)).status_code == 200
    with monkeypatch.context() as hold:  # once the hold is over the server is offered traffic; a write tells anew
        hold.setattr(database, "FULL_DISK_HOLD_SECONDS", 0)
        assert (await client.get("/readyz")).status_code == 200
    assert_problem(await client.post("/api/v1/message-requests", json=body, headers=auth), 507)
    assert (await client.get("/readyz")).status_code == 503

    await execute_directly(settings, *SPACE_FREED)  # the operator freed space: no restart
    after = await client.post("/api/v1/message-requests", json=body, headers=auth)
    assert after.status_code == 202, after.text
    assert (await client.get("/readyz")).status_code == 200
    listed = await client.get("/api/v1/message-requests", headers=auth)
    assert {item["id"] for item in listed.json()["data"]} == {before.json()["id"], after.json()["id"]}
