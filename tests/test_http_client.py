"""The aiohttp-backed transport behaves like httpx's own: errors, timeouts, compression, streaming."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from novaro_lite.http_client import _httpx_error, build_http_client
from tests.fakes.serve import serve_in_thread

pytestmark = pytest.mark.anyio


async def gzipped(request: Request) -> Response:
    return Response(gzip.compress(b"hello " * 100), headers={"Content-Encoding": "gzip"})


async def echo(request: Request) -> Response:
    return Response(await request.body(), headers={"X-Seen-UA": request.headers.get("user-agent", "")})


async def stalls(request: Request) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.sleep(5)
        yield b"never"

    return StreamingResponse(body())


async def redirect(request: Request) -> Response:
    return Response(status_code=302, headers={"Location": "/echo"})


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    routes = [
        Route("/gzip", gzipped),
        Route("/echo", echo, methods=["POST"]),
        Route("/stalls", stalls),
        Route("/redirect", redirect),
    ]
    with serve_in_thread(Starlette(routes=routes)) as url:
        yield url


async def test_transport_sends_body_and_headers_and_decodes_gzip_once(upstream):
    async with build_http_client() as client:
        echoed = await client.post(f"{upstream}/echo", json={"a": 1})
        assert echoed.json() == {"a": 1}
        assert echoed.headers["x-seen-ua"].startswith("novaro-lite/")
        assert (await client.get(f"{upstream}/gzip")).text == "hello " * 100


async def test_transport_does_not_follow_redirects(upstream):
    async with build_http_client() as client:
        response = await client.get(f"{upstream}/redirect")
    assert response.status_code == 302 and response.headers["location"] == "/echo"


async def test_transport_maps_a_stalled_body_to_read_timeout(upstream):
    async with build_http_client() as client:
        async with client.stream("GET", f"{upstream}/stalls", timeout=httpx.Timeout(5, read=0.3)) as response:
            with pytest.raises(httpx.ReadTimeout):
                await response.aread()


async def test_transport_maps_a_refused_connection_to_connect_error():
    async with build_http_client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://127.0.0.1:9/")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (aiohttp.ConnectionTimeoutError(), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("truncated"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
    ],
)
def test_aiohttp_failures_become_the_matching_httpx_errors(error, expected):
    request = httpx.Request("GET", "http://upstream/")
    mapped = _httpx_error(error, request)
    assert type(mapped) is expected and mapped.request is request


async def test_policy_resolver_never_connects_to_a_refused_address(upstream):
    from novaro_lite.domain.webhooks import TargetPolicy

    port = upstream.rsplit(":", 1)[1]
    async with build_http_client(policy=TargetPolicy()) as strict:
        with pytest.raises(httpx.ConnectError):  # "localhost" resolves to loopback, which the policy refuses
            await strict.post(f"http://localhost:{port}/echo", content=b"x")
    async with build_http_client(policy=TargetPolicy(allow_private_networks=True)) as lenient:
        assert (await lenient.post(f"http://localhost:{port}/echo", content=b"x")).status_code == 200
