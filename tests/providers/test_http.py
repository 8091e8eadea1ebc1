from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from novaro_lite.errors import ProviderBusyError, ProviderError
from novaro_lite.outbound.retry_after import MAX_RETRY_AFTER_SECONDS
from novaro_lite.outbound.upstream import build_upstream
from novaro_lite.providers.http import MAX_LINE_BYTES, sse_events, status_error
from tests.fakes.serve import serve_in_thread


@pytest.mark.parametrize(
    ("status", "body", "kind", "detail"),
    [
        (403, {"error": "nope"}, ProviderError, "rejected its credentials (HTTP 403)"),
        (400, {"error": {"message": "context too long"}}, ProviderError, "(HTTP 400): context too long"),
        (404, {"error": "no such model"}, ProviderError, "(HTTP 404): no such model"),
        (422, None, ProviderError, "(HTTP 422): plain words"),
        (529, {"error": {"message": "overloaded"}}, ProviderError, "HTTP 529 after 3 attempt(s)"),
    ],
)
def test_status_error_names_provider_and_upstream_reason(status, body, kind, detail):
    raw = json.dumps(body).encode() if body is not None else b"plain words"
    error = status_error("up", status, {}, raw, 3)
    assert type(error) is kind and "'up'" in error.detail and detail in error.detail


def test_status_error_429_without_retry_after_suggests_30_seconds():
    error = status_error("up", 429, {}, b"", 1)
    assert isinstance(error, ProviderBusyError) and error.headers == {"Retry-After": "30"}


async def events_of(*chunks: bytes) -> list[tuple[str, str]]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    until = asyncio.get_running_loop().time() + 5
    return [event async for event in sse_events("up", body(), until)]


@pytest.mark.anyio
async def test_sse_events_parses_named_multiline_and_unterminated_events():
    raw = b"event: one\ndata: a\ndata: b\n\n: comment\n\ndata: tail"
    assert await events_of(raw) == [("one", "a\nb"), ("message", "tail")]


@pytest.mark.anyio
async def test_sse_lines_end_only_at_cr_lf_and_crlf():
    # U+2028, U+2029 and U+0085 are legal raw inside JSON strings (vLLM and llama.cpp send them so).
    token = '{"t": "a\u2028b\u2029c\u0085d"}'
    raw = f"data: {token}\r\n\r\ndata: x\rdata: y\r\rdata: z\n\n".encode()
    assert await events_of(raw) == [("message", token), ("message", "x\ny"), ("message", "z")]
    # A CRLF split between chunks is one line end, and a character split between chunks is one character.
    encoded = f"data: {token}\r\n\r\n".encode()
    cut = encoded.index("\u2028".encode()) + 1
    pieces = [encoded[:cut], encoded[cut:-3], encoded[-3:-2], encoded[-2:]]
    assert await events_of(*pieces) == [("message", token)]


@pytest.mark.anyio
async def test_sse_refuses_an_endless_line():
    with pytest.raises(ProviderError, match="longer than"):
        await events_of(b"data: " + b"x" * (MAX_LINE_BYTES + 10))


def test_a_huge_retry_after_on_429_still_makes_a_problem():
    error = status_error("up", 429, {"retry-after": "9" * 400}, b"", 1)
    assert isinstance(error, ProviderBusyError) and error.headers == {"Retry-After": str(int(MAX_RETRY_AFTER_SECONDS))}


@pytest.mark.anyio
async def test_an_upstream_answer_over_the_cap_is_refused_not_read_whole():
    from novaro_lite.config.settings import ProviderSettings
    from novaro_lite.domain.agents import Agent, AgentFields
    from novaro_lite.domain.messages import Prompt
    from novaro_lite.providers.http import MAX_ANSWER_BYTES
    from novaro_lite.providers.openai import OpenAIProvider

    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent <= 4 * MAX_ANSWER_BYTES:
            sent += 65536
            yield b" " * 65536

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=endless()))
    async with contextlib.aclosing(build_upstream(transport)) as upstream:
        provider = OpenAIProvider("up", ProviderSettings(base_url="http://up/v1", model="m").check("up"), upstream)
        agent = Agent(id="agt_1", account="acme", created_at=0, updated_at=0, **vars(AgentFields(name="A")))
        with pytest.raises(ProviderError, match="more than 8 MiB"):
            await provider.complete(Prompt("system", (), "m", agent, 0))
    assert sent <= MAX_ANSWER_BYTES + 2 * 65536


@pytest.mark.anyio
async def test_an_endless_error_answer_is_read_only_for_its_message():
    from novaro_lite.config.settings import ProviderSettings
    from novaro_lite.domain.messages import Prompt
    from novaro_lite.providers.http import ERROR_BODY_BYTES
    from novaro_lite.providers.openai import OpenAIProvider

    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"error": {"message": "too long' + b"g" * 65536
        while sent <= 100 * ERROR_BODY_BYTES:
            sent += 65536
            yield b"g" * 65536

    transport = httpx.MockTransport(lambda request: httpx.Response(400, content=endless()))
    settings = ProviderSettings(base_url="http://up/v1", model="m", max_retries=0).check("up")
    async with contextlib.aclosing(build_upstream(transport)) as upstream:
        with pytest.raises(
            ProviderError, match=r"refused the request \(HTTP 400\): \{\"error\": \{\"message\": \"too long"
        ):
            await OpenAIProvider("up", settings, upstream).complete(Prompt("system", (), "m", None, 0))
    assert sent <= ERROR_BODY_BYTES + 2 * 65536


def _refusing_upstream() -> Starlette:
    """An OpenAI-compatible path that refuses every call as its model path says (the last path segment)."""

    async def refuse(request: Request) -> Response:
        how = request.path_params["how"]
        if how == "json":
            return JSONResponse({"error": {"message": "maximum context length exceeded"}}, status_code=400)
        if how == "corrupt-gzip":
            return Response(b"\x1f\x8b\x08\x00not gzip", status_code=400, headers={"Content-Encoding": "gzip"})
        return StreamingResponse(_endless(), status_code=500)

    return Starlette(routes=[Route("/{how}/v1/chat/completions", refuse, methods=["POST"])])


async def _endless() -> AsyncIterator[bytes]:
    for _ in range(10_000):  # 640 MiB, were it read
        yield b"e" * 65536


@pytest.fixture(scope="module")
def refusing() -> Iterator[str]:
    with serve_in_thread(_refusing_upstream()) as url:
        yield url


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("how", "detail"),
    [
        ("json", r"refused the request \(HTTP 400\): maximum context length exceeded"),
        ("corrupt-gzip", r"refused the request \(HTTP 400\): $"),  # the status still says what happened
        ("endless", r"failed with HTTP 500 after 1 attempt"),  # read for 64 KiB at most, then dropped
    ],
)
async def test_refusals_over_the_network_name_the_status_and_the_upstreams_reason(refusing, how, detail):
    from novaro_lite.config.settings import ProviderSettings
    from novaro_lite.domain.messages import Prompt
    from novaro_lite.providers.openai import OpenAIProvider

    settings = ProviderSettings(base_url=f"{refusing}/{how}/v1", model="m", max_retries=0, timeout_seconds=5)
    async with contextlib.aclosing(build_upstream()) as upstream:
        provider = OpenAIProvider("up", settings.check("up"), upstream)
        with pytest.raises(ProviderError, match=detail):
            await provider.complete(Prompt("system", (), "m", None, 0))


@pytest.mark.parametrize(
    ("value", "count"),
    [(7, 7), (7.0, 7), (None, 0), (-5, 0), (float("inf"), 0), (float("nan"), 0), (10**23, 0), (True, 0), ("9", 0)],
)
def test_only_a_plausible_token_count_is_taken(value, count):
    from novaro_lite.providers.http import token_count

    assert token_count(value) == count
