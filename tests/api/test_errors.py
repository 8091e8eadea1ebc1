"""Every error path answers an RFC 9457 problem that says what was wrong and where."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import httpx
import pytest

from novaro_lite import __version__
from novaro_lite.services import Services
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient):
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "/api/v1/nothing-here")


async def test_wrong_method_is_a_405_problem_listing_allowed_methods(client: httpx.AsyncClient):
    response = await client.put("/api/v1/agents")
    assert_problem(response, 405, "PUT")
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


@pytest.mark.parametrize(("content", "detail"), [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object")])
async def test_body_that_is_not_a_json_object_is_a_400_problem(client: httpx.AsyncClient, auth, content, detail):
    headers = auth | {"Content-Type": "application/json"}
    assert_problem(await client.post("/api/v1/agents", content=content, headers=headers), 400, detail)


async def test_body_over_the_limit_is_a_413_problem(client: httpx.AsyncClient, auth):
    huge = {"name": "x", "persona": "y" * 1_100_000}
    assert_problem(await client.post("/api/v1/agents", json=huge, headers=auth), 413, "1048576 bytes")


async def test_streamed_body_over_the_limit_is_a_413_problem(client: httpx.AsyncClient, auth):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 100_000

    assert_problem(await client.post("/api/v1/agents", content=chunks(), headers=auth), 413, "limit")


async def test_validation_problem_lists_every_field_error(client: httpx.AsyncClient, auth):
    response = await client.post("/api/v1/agents", json={"name": "", "timezone": "Nowhere"}, headers=auth)
    body = assert_problem(response, 422, "name")
    assert [error["loc"] for error in body["errors"]] == [["body", "name"], ["body", "timezone"]]
    assert all(error["msg"] for error in body["errors"])


async def test_bad_cursor_is_a_422_problem(client: httpx.AsyncClient, auth):
    body = assert_problem(await client.get("/api/v1/agents?cursor=bogus", headers=auth), 422, "cursor")
    assert body["errors"] == [{"loc": ["query", "cursor"], "msg": "not a cursor from a previous page"}]


async def test_unexpected_exception_is_a_generic_500_with_the_traceback_logged(
    client: httpx.AsyncClient, auth, services: Services, settings, caplog
):
    with sqlite3.connect(settings.database_path) as other:
        other.execute("DROP TABLE agents")
    response = await client.get("/api/v1/agents", headers=auth)
    body = assert_problem(response, 500, "unexpected error")
    assert "agents" not in body["detail"]
    assert "no such table: agents" in caplog.text


async def test_healthz_reports_ok_then_503_when_the_database_is_gone(client: httpx.AsyncClient, services: Services):
    assert (await client.get("/healthz")).json() == {"status": "ok", "version": __version__, "database": "ok"}
    await services.storage.database.close()
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
