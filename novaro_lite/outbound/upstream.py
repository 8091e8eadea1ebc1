"""How providers call their upstream: a POST of JSON bytes straight on aiohttp, without httpx's models.

A realtime reply waits for exactly one such call, so its cost is overhead every user sees: measured
in-process against a loopback upstream, httpx's request and response models over our aiohttp transport
cost 120-150 µs more per call than aiohttp itself (docs/benchmarks.md, issue 24). Failures are still
raised as httpx's exceptions (outbound/client.py's mapping), which providers/http.py turns into
ProviderErrors. `TransportUpstream` sends through an httpx transport instead: the test seam of
create_app, where one MockTransport plays every peer.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Protocol

import aiohttp
import httpx
import yarl

from novaro_lite import __version__
from novaro_lite.outbound.client import AiohttpSender, body_chunks, client_timeout, finish, inflater_for

USER_AGENT = f"novaro-lite/{__version__}"
# Only what body_chunks can inflate: aiohttp's own default adds br (and zstd) when their decoders are installed.
SENT_HEADERS = {"User-Agent": USER_AGENT, "Content-Type": "application/json", "Accept-Encoding": "gzip, deflate"}


class UpstreamResponse(Protocol):
    status: int
    headers: Mapping[str, str]  # case-insensitive

    def chunks(self) -> AsyncGenerator[bytes]:
        """The body as it arrives (inflated when it came gzip or deflate); once."""
        ...

    async def aclose(self) -> None:
        """Give the connection back (a body read to the end) or drop it."""
        ...


class Upstream(Protocol):
    async def post(self, url: yarl.URL, body: bytes, headers: Mapping[str, str], timeout: float) -> UpstreamResponse:
        """POST `body` as JSON; return once the answer's head arrived. `timeout` bounds waiting for a connection,
        connecting, and each read."""
        ...

    async def aclose(self) -> None: ...


class _AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    def chunks(self) -> AsyncGenerator[bytes]:
        return body_chunks(self._response, inflater_for(self._response))

    async def aclose(self) -> None:
        finish(self._response)


class AiohttpUpstream:
    """Providers' calls on one aiohttp session; `proxies` as AiohttpSender takes them."""

    def __init__(self, proxies: Mapping[str, str] | None = None) -> None:
        self._sender = AiohttpSender(proxies=proxies, replays=False)  # a provider's POST is never sent twice
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def post(self, url: yarl.URL, body: bytes, headers: Mapping[str, str], timeout: float) -> UpstreamResponse:
        limits = self._timeouts.get(timeout)
        if limits is None:
            limits = self._timeouts[timeout] = client_timeout(timeout, timeout, timeout)
        sent = {**SENT_HEADERS, **headers}
        return _AiohttpResponse(await self._sender.request("POST", url, sent, body, limits))

    async def aclose(self) -> None:
        await self._sender.aclose()


class _HttpxResponse:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers

    async def chunks(self) -> AsyncGenerator[bytes]:
        async for chunk in self._response.aiter_bytes():
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


class TransportUpstream:
    """Providers' calls through an httpx transport (the test seam: an httpx.MockTransport)."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._client = httpx.AsyncClient(transport=transport, headers={"User-Agent": USER_AGENT})

    async def post(self, url: yarl.URL, body: bytes, headers: Mapping[str, str], timeout: float) -> UpstreamResponse:
        request = self._client.build_request(
            "POST", str(url), content=body, headers={"Content-Type": "application/json", **headers}, timeout=timeout
        )
        return _HttpxResponse(await self._client.send(request, stream=True))

    async def aclose(self) -> None:
        await self._client.aclose()


def build_upstream(
    transport: httpx.AsyncBaseTransport | None = None, proxies: Mapping[str, str] | None = None
) -> AiohttpUpstream | TransportUpstream:
    """Providers' upstream: through `transport` when a test gives one, else aiohttp with `proxies`."""
    return TransportUpstream(transport) if transport is not None else AiohttpUpstream(proxies)
