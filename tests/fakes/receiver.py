"""A webhook receiver for tests against a real server: records every delivery with its arrival time and
answers from a per-test script (status, headers, a pause before answering, or a hold until the test lets go)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOLD_SECONDS = 60  # a held answer goes out after this anyway, so a failed test does not hang its receiver


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    sleep: float = 0.0  # seconds to wait before answering, so the delivery stays in flight
    # Answer only once the test sets this: the delivery stays in flight for as long as the test needs, however
    # slow the machine (the server's webhooks.timeout_seconds must outlast it).
    hold: threading.Event | None = None


@dataclasses.dataclass(frozen=True)
class Receipt:
    at: float  # time.monotonic() when the delivery arrived
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    """Answers `script` in turn, then `then` for every later delivery. Safe to read from the test's thread."""

    def __init__(self) -> None:
        self.receipts: list[Receipt] = []
        self._script: list[Answer] = []
        self._then = Answer()
        self._lock = threading.Lock()
        self._open = 0
        self.most_open = 0  # the most deliveries the receiver held unanswered at once

    def answer(self, *script: Answer, then: Answer | None = None) -> None:
        with self._lock:
            self._script = list(script)
            self._then = then or Answer()

    def reset_most_open(self) -> None:
        with self._lock:
            self.most_open = self._open

    def wait_for(self, count: int, timeout: float) -> list[Receipt]:
        """Wait until at least `count` deliveries arrived (at most `timeout` seconds); return all so far."""
        deadline = time.monotonic() + timeout
        while len(self.receipts) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.receipts) >= count, f"expected {count} deliveries within {timeout} s, got {len(self.receipts)}"
        return list(self.receipts)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.receipts.append(Receipt(time.monotonic(), dict(request.headers), body))
                answer = self._script.pop(0) if self._script else self._then
                self._open += 1
                self.most_open = max(self.most_open, self._open)
            try:
                if answer.sleep:
                    await asyncio.sleep(answer.sleep)
                if answer.hold is not None:
                    await asyncio.to_thread(answer.hold.wait, HOLD_SECONDS)
                return Response(f"answer {answer.status}", status_code=answer.status, headers=answer.headers)
            finally:
                with self._lock:
                    self._open -= 1

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])
