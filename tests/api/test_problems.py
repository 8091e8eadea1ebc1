"""Every error path answers an RFC 9457 problem that says what was wrong and where."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from novaro_lite import __version__
from novaro_lite.services import Services
from tests.fakes.engines import execute_directly
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


async def test_json_body_after_a_utf8_byte_order_mark_is_accepted(client: httpx.AsyncClient, auth):
    headers = auth | {"Content-Type": "application/json"}
    response = await client.post("/api/v1/agents", content=b"\xef\xbb\xbf" + b'{"name": "Bom"}', headers=headers)
    assert response.status_code == 201, response.text


async def test_every_problem_type_is_a_page_the_server_serves(client: httpx.AsyncClient, auth):
    answers = [
        await client.get("/api/v1/nothing-here"),
        await client.put("/api/v1/agents"),
        await client.get("/api/v1/agents"),
        await client.get("/api/v1/agents/agt_nope", headers=auth),
        await client.post("/api/v1/agents", json={"name": ""}, headers=auth),
        await client.post("/api/v1/agents", content=b"{", headers=auth),
    ]
    types = {answer.json()["type"] for answer in answers}
    assert len(types) == 5  # the two 404s share a type
    for problem_type in types:
        assert problem_type.startswith("/problems/")
        page = await client.get(problem_type)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_problem(await client.get("/problems/nope"), 404, "nope")


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


@pytest.mark.parametrize(
    ("path", "body", "loc", "detail"),
    [
        # Each field takes one of two shapes: the error is the one about the shape sent, at its place in the body.
        ("/api/v1/message-requests", {"delay": {"seconds": -1}}, ["body", "delay", "seconds"], "greater than or equal"),
        ("/api/v1/message-requests", {"delay": "soon"}, ["body", "delay"], "should be 'immediate' or an object"),
        ("/api/v1/check-ins", {"window": {"after": -5}}, ["body", "window", "after"], "greater than or equal"),
    ],
)
async def test_a_field_of_two_shapes_is_faulted_at_its_place_not_at_a_type_name(client, auth, path, body, loc, detail):
    """pydantic names the union member it tried in the loc (FixedDelay, literal['immediate'], constrained-int)
    and reports every member's complaint; the problem named those names as places and led with the wrong one."""
    problem = assert_problem(await client.post(path, json=body, headers=auth), 422)
    said = [error["msg"] for error in problem["errors"] if error["loc"] == loc]
    assert len(said) == 1 and detail in said[0], problem["errors"]
    named = " ".join(str(part) for error in problem["errors"] for part in error["loc"])
    assert not any(tag in named for tag in ("FixedDelay", "literal[", "constrained", "function-")), named


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "bogus",
        _cursor(f"seq:{2**63}"),  # past SQLite's integer range: once a 500 on every list
        _cursor("seq:" + "9" * 400),
        _cursor("seq:007"),  # not the form the server writes
        _cursor("seq:-1"),
        _cursor("seq:\u0662"),  # a non-ASCII digit
        _cursor("seq:1") + "==",
        "\u00e9t\u00e9",
    ],
)
@pytest.mark.parametrize("resource", ["agents", "contexts", "webhooks", "message-requests"])
async def test_a_cursor_the_server_did_not_issue_is_a_422_problem(client: httpx.AsyncClient, auth, resource, cursor):
    response = await client.get(f"/api/v1/{resource}", params={"cursor": cursor}, headers=auth)
    body = assert_problem(response, 422, "cursor")
    assert [error["loc"] for error in body["errors"]] == [["query", "cursor"]]


async def test_unexpected_exception_is_a_generic_500_with_the_traceback_logged(
    client: httpx.AsyncClient, auth, services: Services, settings, caplog
):
    await execute_directly(settings, "DROP TABLE agents" + (" CASCADE" if settings.database_url else ""))
    response = await client.get("/api/v1/agents", headers=auth)
    body = assert_problem(response, 500, "unexpected error")
    assert "agents" not in body["detail"]
    assert "no such table: agents" in caplog.text or 'relation "agents" does not exist' in caplog.text


async def test_healthz_reports_ok_then_503_when_the_database_is_gone(client: httpx.AsyncClient, services: Services):
    assert (await client.get("/healthz")).json() == {"status": "ok", "version": __version__, "database": "ok"}
    await services.storage.database.close()
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
