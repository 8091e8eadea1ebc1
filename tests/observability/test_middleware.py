from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from novaro_lite.api.web.problems import server_error_response
from novaro_lite.app import App
from novaro_lite.observability.logs import ACCESS_LOGGER, REQUEST_ID, RequestIdFilter
from novaro_lite.observability.metrics import Metrics

pytestmark = pytest.mark.anyio


async def boom(request: Request) -> Response:
    raise RuntimeError("a bug")


async def echo_id(request: Request) -> Response:
    return PlainTextResponse(REQUEST_ID.get() or "")


async def stream(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"a", b"b", b"c"):
            yield part

    return StreamingResponse(parts(), media_type="text/plain")


def tiny_app() -> App:
    routes = [Route("/boom", boom), Route("/boom/{id}", boom), Route("/id/{name}", echo_id), Route("/stream", stream)]
    return App(metrics=Metrics(enabled=True), routes=routes, exception_handlers={Exception: server_error_response})


@pytest.fixture
async def tiny() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=tiny_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_request_id_is_generated_and_returned(client: httpx.AsyncClient):
    first, second = await client.get("/healthz"), await client.get("/healthz")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("sent", ["abc-123", "req_01HX.2:a", "x" * 128])
async def test_a_sane_request_id_is_honoured(client: httpx.AsyncClient, sent: str):
    response = await client.get("/api/v1/agents", headers={"X-Request-Id": sent})
    assert response.status_code == 401  # errors carry it too
    assert response.headers["x-request-id"] == sent


@pytest.mark.parametrize("sent", ["", "x" * 129, "has space", "semi;colon", "ünï"])
async def test_an_insane_request_id_is_replaced(client: httpx.AsyncClient, sent: str):
    response = await client.get("/nowhere", headers=[(b"X-Request-Id", sent.encode())])
    assert response.status_code == 404
    assert response.headers["x-request-id"] != sent and len(response.headers["x-request-id"]) == 32


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return record.__dict__


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_500_carries_the_request_id_and_its_traceback_is_logged_with_it(tiny, caplog):
    caplog.set_level(logging.INFO)
    captured, root = Captured(), logging.getLogger()
    root.addHandler(captured)
    try:
        response = await tiny.get("/boom", headers={"X-Request-Id": "trace-me"})
    finally:
        root.removeHandler(captured)
    assert response.status_code == 500 and response.headers["x-request-id"] == "trace-me"
    errors = [r for r in captured.records if r.levelno >= logging.ERROR]
    assert errors and all(fields(r)["request_id"] == "trace-me" for r in errors)
    access = [r for r in captured.records if r.name == ACCESS_LOGGER]
    assert [(fields(r)["method"], fields(r)["route"], fields(r)["status"]) for r in access] == [("GET", "/boom", 500)]


async def test_handlers_see_the_id_and_access_lines_name_the_route_template(tiny, caplog):
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        response = await tiny.get("/id/secret-looking-value", headers={"X-Request-Id": "abc"})
    assert response.text == "abc"
    (line,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert line.route == "/id/{name}" and "secret-looking-value" not in line.getMessage()
    assert line.duration_ms >= 0 and line.status == 200


async def test_a_streamed_response_passes_through_whole_with_the_id(tiny):
    response = await tiny.get("/stream")
    assert response.text == "abc" and "x-request-id" in response.headers


async def test_a_500_is_logged_with_its_route_template_never_its_raw_path(tiny, caplog):
    with caplog.at_level(logging.INFO):
        assert (await tiny.get("/boom/agt_0123secret")).status_code == 500
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("novaro_lite")]  # the server's
    assert any("GET /boom/{id}" in line for line in lines if "unhandled error" in line), lines
    assert not any("agt_0123secret" in line for line in lines), lines
