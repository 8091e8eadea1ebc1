"""The aiohttp-backed transport behaves like httpx's own: errors, timeouts, compression, streaming; and the
providers' upstream (outbound/upstream.py), which shares its sender, likewise."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import re
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import pytest
import yarl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from novaro_lite.outbound.client import INFLATE_STEP, REPLAYABLE, _bypasses, _httpx_error, build_http_client
from novaro_lite.outbound.upstream import UpstreamResponse, build_upstream
from tests.fakes.hostile import gzip_bomb, hostile_app
from tests.fakes.serve import serve_in_thread

pytestmark = pytest.mark.anyio


async def gzipped(request: Request) -> Response:
    return Response(gzip.compress(b"hello " * 100), headers={"Content-Encoding": "gzip"})


async def echo(request: Request) -> Response:
    seen = {"UA": "user-agent", "Type": "content-type", "Auth": "authorization", "Encodings": "accept-encoding"}
    return Response(
        await request.body(),
        headers={f"X-Seen-{name}": request.headers.get(header, "") for name, header in seen.items()},
    )


async def stalls(request: Request) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.sleep(5)
        yield b"never"

    return StreamingResponse(body())


async def deflated(request: Request) -> Response:
    raw = request.query_params.get("raw") == "1"
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return Response(compressor.compress(b"hello " * 100) + compressor.flush(), headers={"Content-Encoding": "deflate"})


async def corrupt(request: Request) -> Response:
    return Response(b"\x1f\x8b\x08\x00not gzip at all", headers={"Content-Encoding": "gzip"})


async def redirect(request: Request) -> Response:
    return Response(status_code=302, headers={"Location": "/echo"})


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    routes = [
        Route("/gzip", gzipped, methods=["GET", "POST"]),
        Route("/echo", echo, methods=["POST"]),
        Route("/stalls", stalls, methods=["GET", "POST"]),
        Route("/redirect", redirect),
        Route("/deflate", deflated),
        Route("/corrupt", corrupt),
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


class ClosingReceiver:
    """A receiver that answers the first `answered` requests of each connection, then closes the connection
    when the next one comes, unanswered: what a receiver's idle timeout (uvicorn's 5 s) does to a kept-alive
    connection when a request goes out on it at that moment."""

    def __init__(self, answered: int) -> None:
        self.answered = answered
        self.requests = 0  # every request that reached it, answered or not
        self.connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError):  # the client closed a connection it kept
            for answering in [True] * self.answered + [False]:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                await reader.readexactly(int(length[1]) if length else 0)
                self.requests += 1
                if answering:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def closing_receiver(answered: int) -> AsyncIterator[tuple[ClosingReceiver, str]]:
    receiver = ClosingReceiver(answered)
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", 0)
    async with server:
        yield receiver, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"


async def test_a_replayable_request_goes_again_on_a_new_connection_when_a_kept_alive_one_was_closed():
    async with closing_receiver(answered=1) as (receiver, url), build_http_client() as client:
        assert (await client.post(url, content=b"first")).status_code == 200
        again = await client.post(url, content=b"second", extensions={REPLAYABLE: True})
    assert again.status_code == 200 and again.text == "ok"
    assert (receiver.requests, receiver.connections) == (3, 2)


async def test_a_request_not_replayable_or_on_a_new_connection_is_sent_once():
    async with closing_receiver(answered=1) as (receiver, url), build_http_client() as client:
        assert (await client.post(url, content=b"first")).status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(url, content=b"second")
    assert (receiver.requests, receiver.connections) == (2, 1)
    async with closing_receiver(answered=0) as (receiver, url), build_http_client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(url, content=b"first", extensions={REPLAYABLE: True})
    assert (receiver.requests, receiver.connections) == (1, 1)


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


async def test_transport_inflates_deflate_both_ways_and_refuses_a_corrupt_body(upstream):
    async with build_http_client() as client:
        for raw in ("0", "1"):  # zlib-wrapped as the RFC says, and the raw stream some servers send
            response = await client.get(f"{upstream}/deflate", params={"raw": raw})
            assert response.text == "hello " * 100 and "content-encoding" not in response.headers
        with pytest.raises(httpx.DecodingError):
            await client.get(f"{upstream}/corrupt")


async def test_transport_inflates_a_gzip_bomb_only_as_far_as_it_is_read():
    gzip_bomb()  # built before measuring
    with serve_in_thread(hostile_app()) as url:
        async with build_http_client() as client:
            tracemalloc.start()
            try:
                async with client.stream("POST", f"{url}/bomb") as response:
                    first = await anext(response.aiter_bytes())
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert 0 < len(first) <= INFLATE_STEP and "content-encoding" not in response.headers
    assert peak < 16 * 1024 * 1024, f"reading the first bytes of a gzip bomb allocated {peak / 2**20:.0f} MiB"


@pytest.fixture(scope="module")
def proxy() -> Iterator[tuple[str, list[str]]]:
    """A forward proxy stand-in: answers every request itself and notes the Host it was meant for."""
    seen: list[str] = []

    async def forward(request: Request) -> Response:
        seen.append(request.headers["host"])
        return Response("via proxy")

    with serve_in_thread(Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])) as url:
        yield url, seen


async def test_the_webhook_client_never_uses_a_proxy_even_one_in_the_environment(proxy, monkeypatch):
    url, seen = proxy
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, url)
    async with build_http_client() as client:
        with pytest.raises(httpx.ConnectError):  # straight to the host, which does not exist
            await client.get("http://models.example.invalid/v1/models")
    assert "models.example.invalid" not in seen


async def test_providers_upstream_uses_the_proxy_it_is_given_unless_no_proxy_names_the_host(proxy):
    url, seen = proxy
    async with contextlib.aclosing(build_upstream(proxies={"http": url, "no": ".internal.example"})) as upstream:
        answer = await upstream.post(yarl.URL("http://models.example.invalid/v1/chat/completions"), b"{}", {}, 5)
        assert b"".join([chunk async for chunk in answer.chunks()]) == b"via proxy"
        assert seen[-1] == "models.example.invalid"
        await answer.aclose()
        with pytest.raises(httpx.ConnectError):
            await upstream.post(yarl.URL("http://api.internal.example/v1/chat/completions"), b"{}", {}, 5)


async def body_of(answer: UpstreamResponse) -> bytes:
    try:
        return b"".join([chunk async for chunk in answer.chunks()])
    finally:
        await answer.aclose()


async def test_providers_upstream_posts_json_with_its_headers_inflates_and_times_out(upstream):
    async with contextlib.aclosing(build_upstream()) as calls:
        echoed = await calls.post(yarl.URL(f"{upstream}/echo"), b'{"a":1}', {"Authorization": "Bearer k"}, 5)
        assert echoed.status == 200 and echoed.headers["x-seen-ua"].startswith("novaro-lite/")
        assert echoed.headers["x-seen-type"] == "application/json" and echoed.headers["x-seen-auth"] == "Bearer k"
        assert echoed.headers["x-seen-encodings"] == "gzip, deflate"  # only what it can inflate (not br, zstd)
        assert await body_of(echoed) == b'{"a":1}'
        assert await body_of(await calls.post(yarl.URL(f"{upstream}/gzip"), b"{}", {}, 5)) == b"hello " * 100
        stalled = await calls.post(yarl.URL(f"{upstream}/stalls"), b"{}", {}, 0.3)
        with pytest.raises(httpx.ReadTimeout):
            await body_of(stalled)
        with pytest.raises(httpx.ConnectError):
            await calls.post(yarl.URL("http://127.0.0.1:9/v1/chat/completions"), b"{}", {}, 5)


@pytest.mark.parametrize(
    ("host", "no_proxy", "bypassed"),
    [
        ("api.example.com", "", False),
        ("api.example.com", "*", True),
        ("api.example.com", "example.com", True),
        ("api.example.com", ".example.com", True),
        ("example.com", ".example.com", True),
        ("badexample.com", "example.com", False),
        ("api.example.com", "other.org, example.com:443", True),
        ("::1", "[::1]", True),
    ],
)
def test_no_proxy_matches_names_and_domain_suffixes(host, no_proxy, bypassed):
    assert _bypasses(host, no_proxy) is bypassed
