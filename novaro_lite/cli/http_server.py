"""The inbound HTTP protocol: uvicorn's httptools protocol with a cap on the size of a request's head.

httptools keeps a header (or a chunked body's trailer) in memory until its line is complete, so a client
could send one endless line and grow the process without limit (seen: a 64 MB Authorization header read
whole, RSS 61 → 248 MB). This protocol counts the bytes the parser takes without producing anything (no
new message, no complete head, no body): past HEAD_MAX it answers 431 and closes the connection. A parsed
head is checked once: the request line and each header at most HEADER_LINE_MAX, all of it at most
HEAD_MAX. A request the parser refuses is answered as a problem too (uvicorn writes plain text). Everything
else, and the parser's speed, stays uvicorn's. Imports uvicorn, errors and the problem body only.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from novaro_lite.api.openai.errors import is_openai_path, openai_error_body
from novaro_lite.api.web.problems import PROBLEM_MEDIA_TYPE, problem_body
from novaro_lite.errors import AppError, BadRequestError, HeadersTooLargeError

HEADER_LINE_MAX = 16 * 1024  # the request line, or one header's name and value
HEAD_MAX = 64 * 1024  # the request line and every header together; also any run of bytes that parses to nothing


def _problem(error: AppError, reason: str, url: bytes) -> bytes:
    """A whole response: `error` as a problem (in OpenAI's shape under /v1, as the app answers there, so its
    clients show the message), and the connection closed after it."""
    if is_openai_path(url.partition(b"?")[0].decode("latin-1")):
        media, body = "application/json", json.dumps(openai_error_body(error.status, error.detail)).encode()
    else:
        media, body = PROBLEM_MEDIA_TYPE, json.dumps(problem_body(error)).encode()
    head = (
        f"HTTP/1.1 {error.status} {reason}\r\ncontent-type: {media}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that refuses a request head (or trailer) larger than HEAD_MAX with a 431."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle_bytes = 0  # bytes fed since the parser last produced something
        self._progress = False
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._progress = False
        super().data_received(data)
        if self._refused:
            return
        self._idle_bytes = 0 if self._progress else self._idle_bytes + len(data)
        if self._idle_bytes > HEAD_MAX:
            self._refuse(f"The request head is larger than {HEAD_MAX} bytes.")

    def on_message_begin(self) -> None:
        self._progress = True
        if not self._refused:
            super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        if not self._refused:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._refused:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        # The limits are checked once the head is parsed, so an ordinary request costs one pass over its
        # headers and no extra call per header; a head still arriving is bounded by data_received.
        self._progress = True
        if self._refused:
            return
        if len(self.url) > HEADER_LINE_MAX:
            self._refuse(f"The request URL is longer than {HEADER_LINE_MAX} bytes.")
            return
        size = len(self.url)
        for name, value in self.headers:
            if len(name) + len(value) > HEADER_LINE_MAX:
                self._refuse(f"The header {name[:100].decode('latin-1')!r} is longer than {HEADER_LINE_MAX} bytes.")
                return
            size += len(name) + len(value) + 4
        if size > HEAD_MAX:
            self._refuse(f"The request head is larger than {HEAD_MAX} bytes.")
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._progress = True
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._progress = True
        if not self._refused:
            super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """A request httptools cannot parse (a raw non-ASCII byte in the URL, an unknown method): uvicorn answers
        in plain text; here it is a problem, as every 4xx of this server."""
        error = BadRequestError(f"The request is not valid HTTP/1.1: {msg}")
        self.transport.write(_problem(error, "Bad Request", self._url_so_far()))
        self.transport.close()

    def _url_so_far(self) -> bytes:
        """The request's URL as far as it was parsed (uvicorn sets it when a message begins)."""
        url: bytes = getattr(self, "url", b"")
        return url

    def _refuse(self, detail: str) -> None:
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self.logger.warning("Refused a request from %s: %s", self.client, detail)
        if self.cycle is None or self.cycle.response_complete:
            refusal = HeadersTooLargeError(detail)
            self.transport.write(_problem(refusal, "Request Header Fields Too Large", self._url_so_far()))
        # else an earlier pipelined request is still being answered: a 431 now would read as its answer,
        # so the connection just closes.
        self.transport.close()
