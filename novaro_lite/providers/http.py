"""What every HTTP provider shares: sending with retries, mapping upstream failures, reading SSE."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import anyio
import httpx

from novaro_lite.config import ProviderSettings
from novaro_lite.errors import ProviderBusyError, ProviderError, ProviderTimeoutError

RETRYABLE = frozenset({429, 500, 502, 503, 504, 529})  # 529: Anthropic's "overloaded"
BACKOFF_SECONDS = 0.5
MAX_WAIT_SECONDS = 30.0


class HTTPProvider:
    """What every HTTP provider holds: its configured name and settings, and the app's shared client."""

    shape: ClassVar[str]  # what a well-formed answer is, for the "malformed" message

    def __init__(self, name: str, config: ProviderSettings, client: httpx.AsyncClient) -> None:
        self.name = name
        self.default_model = config.model
        self._config = config
        self._client = client

    def _malformed(self) -> ProviderError:
        return ProviderError(f"The provider {self.name!r} answered in a shape that is not {self.shape}.")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the upstream asked us to wait (delta-seconds or an HTTP date), if it said."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    return None


def _error_message(response: httpx.Response) -> str:
    """The upstream's own error text, shortened; never headers, so never a key."""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return str(message)[:300]
    return response.text[:300]


def status_error(name: str, response: httpx.Response, attempts: int) -> ProviderError:
    status = response.status_code
    if status in (401, 403):
        return ProviderError(f"The provider {name!r} rejected its credentials (HTTP {status}).")
    if status == 429:
        wait = retry_after(response)
        seconds = str(max(1, round(wait))) if wait is not None else "30"
        return ProviderBusyError(
            f"The provider {name!r} is rate limiting (HTTP 429) after {attempts} attempt(s); retry later.",
            headers={"Retry-After": seconds},
        )
    if status >= 500:
        return ProviderError(f"The provider {name!r} failed with HTTP {status} after {attempts} attempt(s).")
    return ProviderError(f"The provider {name!r} refused the request (HTTP {status}): {_error_message(response)}")


@contextlib.contextmanager
def upstream_errors(name: str, config: ProviderSettings) -> Iterator[None]:
    """Turn httpx failures into ProviderError subclasses that name the provider."""
    try:
        yield
    except httpx.TimeoutException:
        raise ProviderTimeoutError(
            f"The provider {name!r} did not answer within {config.timeout_seconds:g} s."
        ) from None
    except httpx.RequestError as exc:
        raise ProviderError(f"The provider {name!r} could not be reached ({type(exc).__name__}).") from None


async def send(
    client: httpx.AsyncClient, name: str, config: ProviderSettings, request: httpx.Request
) -> httpx.Response:
    """Send `request`, retrying 429 and 5xx with backoff; return a 2xx response open for streaming."""
    attempts = config.max_retries + 1
    for attempt in range(1, attempts + 1):
        with upstream_errors(name, config):
            response = await client.send(request, stream=True)
            if response.is_success:
                return response
            try:
                await response.aread()
            finally:
                await close(response)
        asked = retry_after(response)
        # Waiting longer than MAX_WAIT_SECONDS inside one call helps no one: say so now, with the upstream's wait.
        if response.status_code not in RETRYABLE or attempt == attempts or (asked or 0) > MAX_WAIT_SECONDS:
            raise status_error(name, response, attempt)
        wait = asked if asked is not None else BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
        await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


async def close(response: httpx.Response) -> None:
    """Close an upstream response even while our task is being cancelled, so the connection is released."""
    with anyio.CancelScope(shield=True):
        await response.aclose()


# What reading a field of an unexpected shape raises; providers turn these into "malformed" errors.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)


async def read_json(name: str, config: ProviderSettings, response: httpx.Response) -> Any:
    """Read a whole upstream body as JSON and close the response, whatever happens."""
    try:
        with upstream_errors(name, config):
            return parse_json(name, await response.aread())
    finally:
        await close(response)


def parse_json(name: str, raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise ProviderError(f"The provider {name!r} answered with a body that is not JSON.") from None


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """Yield (event, data) pairs from a text/event-stream body."""
    event, data = "message", list[str]()
    async for line in response.aiter_lines():
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
