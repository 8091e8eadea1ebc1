from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from novaro_lite.errors import ProviderBusyError, ProviderError
from novaro_lite.providers.http import retry_after, sse_events, status_error


def response(status: int, headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
    return httpx.Response(status, headers=headers, **kwargs)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after(response(429, {"Retry-After": "7"})) == 7
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    wait = retry_after(response(503, {"Retry-After": later}))
    assert wait is not None and 55 <= wait <= 61
    assert retry_after(response(503, {"Retry-After": "soon"})) is None
    assert retry_after(response(503)) is None


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
    upstream = response(status, json=body) if body is not None else response(status, text="plain words")
    error = status_error("up", upstream, 3)
    assert type(error) is kind and "'up'" in error.detail and detail in error.detail


def test_status_error_429_without_retry_after_suggests_30_seconds():
    error = status_error("up", response(429), 1)
    assert isinstance(error, ProviderBusyError) and error.headers == {"Retry-After": "30"}


@pytest.mark.anyio
async def test_sse_events_parses_named_multiline_and_unterminated_events():
    raw = b"event: one\ndata: a\ndata: b\n\n: comment\n\ndata: tail"
    events = [event async for event in sse_events(httpx.Response(200, content=raw))]
    assert events == [("one", "a\nb"), ("message", "tail")]
