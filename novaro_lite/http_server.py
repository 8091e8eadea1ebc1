"""The inbound HTTP protocol: uvicorn's httptools protocol with a cap on the size of a request's head.

httptools keeps a header in memory until it is complete, so a client could send one endless header line
and grow the process without limit (seen: a 64 MB Authorization header read whole, RSS 61 → 248 MB).
This protocol answers 431 and closes the connection as soon as the request line or one header passes
HEADER_LINE_MAX, or the whole head passes HEAD_MAX, before the app sees the request. Everything else,
and the parser's speed, stays uvicorn's. Imports uvicorn and errors only.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from novaro_lite.errors import PROBLEM_MEDIA_TYPE, HeadersTooLargeError

HEADER_LINE_MAX = 16 * 1024  # the request line, or one header's name and value
HEAD_MAX = 64 * 1024  # the request line and every header together


def _refusal(detail: str) -> bytes:
    error = HeadersTooLargeError(detail)
    body = json.dumps({"type": error.type, "title": error.title, "status": error.status, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: {PROBLEM_MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that refuses a request head larger than HEAD_MAX with a 431."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False  # between a message's first byte and its last header: head bytes arriving
        self._head_size = 0  # head bytes counted so far: whole chunks that did not complete the head
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and not self._refused:
            self._head_size += len(data)
            if self._head_size > HEAD_MAX:
                self._refuse(f"The request head is larger than {HEAD_MAX} bytes.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_size = True, 0

    def on_headers_complete(self) -> None:
        # The limits are checked once the head is parsed, so an ordinary request costs one pass over its
        # headers and no extra call per header; a head still arriving is bounded by data_received.
        self._in_head = False
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
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _refuse(self, detail: str) -> None:
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self.logger.warning("Refused a request from %s: %s", self.client, detail)
        self.transport.write(_refusal(detail))
        self.transport.close()
