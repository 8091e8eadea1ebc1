"""The network I/O of every outbound call, on aiohttp: AiohttpSender, and the webhooks' httpx client over it.

The wire is aiohttp's: on this 2-core machine httpcore's connection pool capped 64 concurrent calls to a
zero-latency upstream near 830 requests/s (its pool rescans and polls every connection per request:
encode/httpcore#1035), while aiohttp made 11,750 requests/s; the realtime benchmark in docs/benchmarks.md has
the end-to-end figures. Webhook delivery speaks httpx's API (its request/response models, its exception
hierarchy, its MockTransport test seam) through AiohttpTransport; providers call AiohttpSender more directly,
through outbound/upstream.py. Failures are raised as httpx's exceptions either way.

Answers are inflated here, never by httpx: gzip and deflate are inflated INFLATE_STEP bytes at a time, so
a reader that stops at its limit never holds more than that, whatever the other side compresses (a 400 KiB
gzip answer can inflate to 400 MiB). Proxies are used only by the providers' calls (from HTTP_PROXY /
HTTPS_PROXY / NO_PROXY); the webhook client never has any.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from novaro_lite import __version__
from novaro_lite.domain.webhooks import TargetPolicy, refused_address_reason

TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_CONNECTIONS = 512
# aiohttp sets these from the body and URL itself; passing httpx's copies would duplicate them.
_SKIPPED_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
INFLATE_STEP = 64 * 1024  # most bytes inflated from one compressed chunk before the reader takes them
_INFLATED = frozenset({"gzip", "x-gzip", "deflate"})
# A request extension: True when sending the request again has the effect of sending it once (a webhook
# delivery, which carries its webhook-id for the receiver to recognise a repeat).
REPLAYABLE = "novaro_lite.replayable"


def _httpx_error(exc: BaseException, request: httpx.Request | None) -> httpx.TransportError:
    """Translate an aiohttp failure into the httpx exception a provider expects."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "connect timed out", request=request)
    if isinstance(exc, asyncio.TimeoutError):  # aiohttp's SocketTimeoutError is one too
        return httpx.ReadTimeout(str(exc) or "read timed out", request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc), request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(str(exc), request=request)
    return httpx.ReadError(str(exc), request=request)


class _Inflater:
    """Inflate gzip or deflate in steps of at most INFLATE_STEP bytes, so the reader sets the pace."""

    def __init__(self, encoding: str) -> None:
        self._is_deflate = encoding == "deflate"
        self._started = False
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if self._is_deflate else zlib.MAX_WBITS | 16)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._zlib.decompress(data, INFLATE_STEP)
            except zlib.error:
                if not (self._is_deflate and not self._started):
                    raise
                # "deflate" answers are zlib-wrapped by the RFC, but some servers send the raw stream.
                self._zlib, self._is_deflate = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            self._started = True
            data = self._zlib.unconsumed_tail
            if out:
                yield out


async def body_chunks(
    response: aiohttp.ClientResponse, inflater: _Inflater | None, request: httpx.Request | None = None
) -> AsyncGenerator[bytes]:
    """The body of `response` as it arrives, inflated with its cap; failures as httpx's exceptions."""
    try:
        async for chunk in response.content.iter_any():
            if inflater is None:
                yield chunk
                continue
            for part in inflater.feed(chunk):
                yield part
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _httpx_error(exc, request) from exc
    except zlib.error as exc:
        raise httpx.DecodingError(f"the compressed answer is corrupt: {exc}", request=request) from exc


def finish(response: aiohttp.ClientResponse) -> None:
    """Let go of `response`: a body read to the end gives its connection back to the pool; anything else drops
    the connection, which is also how an abandoned stream tells the upstream to stop."""
    if response.content.at_eof():
        response.release()
    else:
        response.close()


def inflater_for(response: aiohttp.ClientResponse) -> _Inflater | None:
    """The inflater a gzip or deflate answer needs (inflated here, with a cap, never by httpx), else None."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in _INFLATED:
        return None
    return _Inflater("deflate" if encoding == "deflate" else "gzip")


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request, inflater: _Inflater | None) -> None:
        self._response = response
        self._request = request
        self._inflater = inflater

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in body_chunks(self._response, self._inflater, self._request):
            yield chunk

    async def aclose(self) -> None:
        finish(self._response)


async def _on_reused(
    _: aiohttp.ClientSession, context: SimpleNamespace, __: aiohttp.TraceConnectionReuseconnParams
) -> None:
    context.trace_request_ctx["reused"] = True


def _reuse_tracing() -> aiohttp.TraceConfig:
    """Tracing that marks a request's `trace_request_ctx` dict when it went out on a kept-alive connection."""
    tracing = aiohttp.TraceConfig()
    tracing.on_connection_reuseconn.append(_on_reused)
    return tracing


class PolicyResolver(AbstractResolver):
    """Resolve names like aiohttp does, but never to an address the webhook target policy refuses.

    The policy is also checked before each webhook call (with a sentence saying which setting to change);
    this closes the gap between that check and the connection, where a host could re-resolve elsewhere
    (DNS rebinding).
    """

    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy
        self._resolver = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        allowed = [
            result
            for result in await self._resolver.resolve(host, port, family)
            if refused_address_reason(ipaddress.ip_address(result["host"]), self._policy) is None
        ]
        if not allowed:
            raise OSError(f"{host} resolves only to addresses the webhook target policy refuses")
        return allowed

    async def close(self) -> None:
        await self._resolver.close()


def _bypasses(host: str, no_proxy: str) -> bool:
    """True when NO_PROXY (comma-separated names or domain suffixes, `*` for all) names `host`."""
    host = host.lower().rstrip(".")
    for entry in (entry.strip().lower() for entry in no_proxy.split(",")):
        entry = entry.rpartition(":")[0] if entry.count(":") == 1 else entry  # "example.com:8080"
        entry = entry.strip("[]").lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return True
    return False


class AiohttpSender:
    """One aiohttp session (created in the running loop) and how a request goes out on it.

    `proxies` maps "http" / "https" to a proxy URL and "no" to a NO_PROXY list, as in the environment.
    `replays`: requests may be sent again when a kept-alive connection turns out closed (`replayable`), which
    needs aiohttp's tracing on every request (several awaits each, so only where it is used: webhooks).
    Failures are raised as httpx's exceptions, which providers and the webhook sender both map.
    """

    def __init__(
        self, resolver: AbstractResolver | None = None, proxies: Mapping[str, str] | None = None, *, replays: bool
    ) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._resolver = resolver
        self._proxies = dict(proxies or {})
        self._replays = replays

    def _proxy(self, url: yarl.URL) -> str | None:
        proxy = self._proxies.get(url.scheme)
        if proxy is None or _bypasses(url.host or "", self._proxies.get("no", "")):
            return None
        return proxy

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=0, resolver=self._resolver)
        # Content-Encoding is undone by inflater_for's inflater, with a cap, so aiohttp hands the body over as it came.
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
            trace_configs=[_reuse_tracing()] if self._replays else None,
        )
        return self._session

    async def request(
        self,
        method: str,
        url: yarl.URL,
        headers: Any,
        data: bytes | None,
        timeout: aiohttp.ClientTimeout,
        *,
        replayable: bool = False,
        request: httpx.Request | None = None,
    ) -> aiohttp.ClientResponse:
        """Send one request; return the response with its body unread. `request` is named in httpx's errors."""
        session = self._session or self._open()
        while True:
            sent = {"reused": False}
            try:
                return await session.request(
                    method,
                    url,
                    headers=headers,
                    data=data,
                    allow_redirects=False,
                    proxy=self._proxy(url) if self._proxies else None,
                    timeout=timeout,
                    trace_request_ctx=sent,
                )
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # A kept-alive connection the other side closed as we sent on it (its idle timeout ran out at
                # that moment: 5 s for uvicorn, 2 s for gunicorn): no answer, and almost surely not read. Send a
                # replayable request again (RFC 9112, 9.3.1); each try leaves one stale connection fewer in the
                # pool, and a failure on a new connection is final.
                if sent["reused"] and replayable:
                    continue
                raise _httpx_error(exc, request) from exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise _httpx_error(exc, request) from exc
            except ValueError as exc:  # a URL or header aiohttp will not send
                raise httpx.UnsupportedProtocol(str(exc), request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def client_timeout(connect: float | None, read: float | None, pool: float | None = None) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for httpx's: `pool` bounds waiting for a connection, `connect` making one, `read` each
    read of the answer."""
    return aiohttp.ClientTimeout(connect=pool, sock_connect=connect, sock_read=read)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends requests with an AiohttpSender (never through a proxy)."""

    def __init__(self, resolver: AbstractResolver | None = None) -> None:
        self._sender = AiohttpSender(resolver, replays=True)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout: dict[str, Any] = request.extensions.get("timeout", {})
        headers = [
            (name, value) for name, value in request.headers.multi_items() if name.lower() not in _SKIPPED_HEADERS
        ]
        response = await self._sender.request(
            request.method,
            yarl.URL(str(request.url), encoded=True),
            headers,
            await request.aread() or None,
            client_timeout(timeout.get("connect"), timeout.get("read"), timeout.get("pool")),
            replayable=bool(request.extensions.get(REPLAYABLE)),
            request=request,
        )
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in response.raw_headers]
        inflater = inflater_for(response)
        if inflater is not None:  # httpx must not inflate it again, nor expect the compressed length
            headers = [(n, v) for n, v in headers if n.lower() not in ("content-encoding", "content-length")]
        return httpx.Response(
            response.status,
            headers=headers,
            stream=_ResponseStream(response, request, inflater),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        await self._sender.aclose()


def build_http_client(
    transport: httpx.AsyncBaseTransport | None = None, *, policy: TargetPolicy | None = None
) -> httpx.AsyncClient:
    """Return the webhooks' client; with `policy`, one that connects only to addresses the policy allows.

    It never uses a proxy. `transport` is the test seam.
    """
    return httpx.AsyncClient(
        transport=transport or AiohttpTransport(None if policy is None else PolicyResolver(policy)),
        timeout=TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": f"novaro-lite/{__version__}"},
    )
