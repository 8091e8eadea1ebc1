"""What every HTTP provider shares: sending with retries, mapping upstream failures, reading SSE.

Every call has one deadline, `timeout_seconds` after it starts: it bounds all attempts, the waits between
them and the reading of the answer, so an upstream that sends a byte now and then cannot hold a call
(or an async delivery's lease) for longer. Answers are read up to MAX_ANSWER_BYTES (a stream's lines up
to MAX_LINE_BYTES each, an error's body up to ERROR_BODY_BYTES). Retry-After is read by
outbound/retry_after.py, like every answer's. Calls go out through outbound/upstream.py.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import random
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, ClassVar, NamedTuple

import anyio
import httpx
import yarl

from novaro_lite.config.settings import ProviderSettings
from novaro_lite.domain.text import mended
from novaro_lite.errors import ProviderBusyError, ProviderError, ProviderTimeoutError
from novaro_lite.outbound.retry_after import retry_after_seconds
from novaro_lite.outbound.upstream import Upstream, UpstreamResponse

RETRYABLE = frozenset({429, 500, 502, 503, 504, 529})  # 529: Anthropic's "overloaded"
BACKOFF_SECONDS = 0.5
MAX_WAIT_SECONDS = 30.0
MAX_ANSWER_BYTES = 8 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024
ERROR_BODY_BYTES = 64 * 1024  # of an error answer, what is read for its message; the rest is not waited for
MAX_TOKEN_COUNT = 10**9  # more tokens than any call uses: a larger count is not one
# SSE lines end at CR, LF or CRLF only (https://html.spec.whatwg.org/multipage/server-sent-events.html);
# str.splitlines would also split at U+2028, U+2029 and U+0085, which JSON strings may carry raw.
_LINE_END = re.compile(r"\r\n|\r|\n")


class Call(NamedTuple):
    """One POST to the upstream: where, the JSON body's bytes, and the provider's own headers."""

    url: yarl.URL
    body: bytes
    headers: Mapping[str, str]


class HTTPProvider:
    """What every HTTP provider holds: its configured name and settings, and the app's shared upstream."""

    shape: ClassVar[str]  # what a well-formed answer is, for the "malformed" message

    def __init__(self, name: str, config: ProviderSettings, upstream: Upstream) -> None:
        self.name = name
        self.default_model = config.model
        self._config = config
        self._upstream = upstream
        self._urls: dict[str, yarl.URL] = {}

    def _call(self, path: str, body: dict[str, Any], headers: Mapping[str, str]) -> Call:
        """A POST of `body` to `path` under the base URL (parsed once: parsing it for every call cost 40-80 µs,
        several per cent of a realtime reply's CPU; docs/benchmarks.md)."""
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = yarl.URL(f"{self._config.base_url}{path}")
        return Call(url, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), headers)

    def _malformed(self) -> ProviderError:
        return ProviderError(f"The provider {self.name!r} answered in a shape that is not {self.shape}.")


def deadline(config: ProviderSettings) -> float:
    """The event-loop time by which one call to this provider must be done, retries and reading included."""
    return asyncio.get_running_loop().time() + config.timeout_seconds


def upstream_said(text: str) -> str:
    """An upstream's own words quoted in one of our error messages, which an async request keeps as its last
    error (text, which PostgreSQL refuses with NUL in it): shortened, NUL and lone surrogates as U+FFFD."""
    return mended(text[:300]).replace("\x00", "\ufffd")


def _error_message(body: bytes) -> str:
    """The upstream's own error text, shortened; never headers, so never a key."""
    with contextlib.suppress(ValueError, AttributeError, TypeError, RecursionError):
        error = json.loads(body).get("error")
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return upstream_said(str(message))
    return upstream_said(body.decode("utf-8", "replace"))


def token_count(value: Any) -> int:
    """An upstream's count of tokens; what is not a count (negative, fractional past the bound, infinite, not a
    number) counts 0 rather than reaching our answers and metrics."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_TOKEN_COUNT:
        return 0
    return int(value)


def status_error(name: str, status: int, headers: Mapping[str, str], body: bytes, attempts: int) -> ProviderError:
    """The error for an upstream's non-2xx answer (`body`: what was read of it), naming the provider."""
    if status in (401, 403):
        return ProviderError(f"The provider {name!r} rejected its credentials (HTTP {status}).")
    if status == 429:
        wait = retry_after_seconds(headers.get("retry-after"), time.time())
        seconds = str(max(1, round(wait))) if wait is not None else "30"
        return ProviderBusyError(
            f"The provider {name!r} is rate limiting (HTTP 429) after {attempts} attempt(s); retry later.",
            headers={"Retry-After": seconds},
        )
    if status >= 500:
        return ProviderError(f"The provider {name!r} failed with HTTP {status} after {attempts} attempt(s).")
    return ProviderError(f"The provider {name!r} refused the request (HTTP {status}): {_error_message(body)}")


@contextlib.contextmanager
def upstream_errors(name: str, config: ProviderSettings) -> Iterator[None]:
    """Turn httpx failures (and the call's deadline passing) into ProviderError subclasses naming the provider."""
    try:
        yield
    except (httpx.TimeoutException, TimeoutError):
        raise ProviderTimeoutError(
            f"The provider {name!r} did not answer within {config.timeout_seconds:g} s."
        ) from None
    except httpx.RequestError as exc:
        raise ProviderError(f"The provider {name!r} could not be reached ({type(exc).__name__}).") from None


async def send(upstream: Upstream, name: str, config: ProviderSettings, call: Call, until: float) -> UpstreamResponse:
    """Send `call`, retrying 429 and 5xx with backoff, all by the loop time `until`.

    Return a 2xx response open for streaming.
    """
    attempts = config.max_retries + 1
    for attempt in range(1, attempts + 1):
        with upstream_errors(name, config):
            async with asyncio.timeout_at(until):
                response = await upstream.post(call.url, call.body, call.headers, config.timeout_seconds)
                if 200 <= response.status < 300:
                    return response
                body = await _error_body(response)
        asked = retry_after_seconds(response.headers.get("retry-after"), time.time())
        wait = asked if asked is not None else BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
        # A wait past the deadline (or longer than MAX_WAIT_SECONDS) helps no one: say so now, with the
        # upstream's wait, so the caller (or the async retry schedule) can come back later.
        too_long = wait > MAX_WAIT_SECONDS or asyncio.get_running_loop().time() + wait >= until
        if response.status not in RETRYABLE or attempt == attempts or too_long:
            raise status_error(name, response.status, response.headers, body, attempt)
        await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


async def close(response: UpstreamResponse) -> None:
    """Close an upstream response even while our task is being cancelled, so the connection is released."""
    with anyio.CancelScope(shield=True):
        await response.aclose()


# What reading a field of an unexpected shape raises; providers turn these into "malformed" errors.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)


async def _read_capped(response: UpstreamResponse, limit: int) -> bytes:
    """Read a body of at most `limit` bytes; None of a longer one is kept."""
    body = bytearray()
    async with contextlib.aclosing(response.chunks()) as chunks:
        async for chunk in chunks:
            body += chunk
            if len(body) > limit:
                raise _TooLongError
    return bytes(body)


async def _error_body(response: UpstreamResponse) -> bytes:
    """The first ERROR_BODY_BYTES of an error answer, for its message, and the response closed. A body that
    breaks off or will not inflate says nothing (b""): the status still tells what happened."""
    body = bytearray()
    try:
        async with contextlib.aclosing(response.chunks()) as chunks:
            async for chunk in chunks:
                body += chunk
                if len(body) >= ERROR_BODY_BYTES:
                    break
    except httpx.TimeoutException:
        raise
    except httpx.RequestError:
        return b""
    finally:
        await close(response)
    return bytes(body[:ERROR_BODY_BYTES])


class _TooLongError(Exception):
    pass


async def read_json(name: str, config: ProviderSettings, response: UpstreamResponse, until: float) -> Any:
    """Read a whole upstream body (by the loop time `until`) as JSON and close the response, whatever happens."""
    try:
        with upstream_errors(name, config):
            async with asyncio.timeout_at(until):
                return parse_json(name, await _read_capped(response, MAX_ANSWER_BYTES))
    except _TooLongError:
        raise ProviderError(
            f"The provider {name!r} answered with more than {MAX_ANSWER_BYTES // 1024 // 1024} MiB."
        ) from None
    finally:
        await close(response)


def parse_json(name: str, raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # nested past Python's recursion limit: not a completion either
        raise ProviderError(f"The provider {name!r} answered with a body that is not JSON.") from None


async def _lines(name: str, body: AsyncIterator[bytes], until: float) -> AsyncIterator[str]:
    """Yield the lines of a UTF-8 body split at CR, LF and CRLF only, each read by the loop time `until`."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    chunks = aiter(body)
    pending = ""
    while True:
        async with asyncio.timeout_at(until):
            chunk = await anext(chunks, None)
        text = pending + decoder.decode(chunk or b"", final=chunk is None)
        carry = ""
        if chunk is not None and text.endswith("\r"):  # maybe the first half of a CRLF: wait for the next byte
            text, carry = text[:-1], "\r"
        *lines, pending = _LINE_END.split(text)
        pending += carry
        for line in lines:
            yield line
        if chunk is None:
            if pending:
                yield pending
            return
        if len(pending) > MAX_LINE_BYTES:
            raise ProviderError(f"The provider {name!r} sent a stream line longer than {MAX_LINE_BYTES // 1024} KiB.")


async def sse_events(name: str, body: AsyncIterator[bytes], until: float) -> AsyncIterator[tuple[str, str]]:
    """Yield (event, data) pairs from a text/event-stream body, all read by the loop time `until`."""
    event, data = "message", list[str]()
    async for line in _lines(name, body, until):
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", list[str]()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line.startswith("event:"):
            event = line[6:].strip()
    if data:
        yield event, "\n".join(data)
