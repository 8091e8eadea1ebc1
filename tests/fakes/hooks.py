"""A webhook receiver for in-process tests: records deliveries and answers from a script."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclasses.dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclasses.dataclass
class Receiver:
    """Answers `script` in turn (then 200s); each entry is a status or (status, headers)."""

    script: list[int | tuple[int, dict[str, str]]] = dataclasses.field(default_factory=list)
    deliveries: list[Delivery] = dataclasses.field(default_factory=list)
    delay: float = 0.0  # seconds to wait before answering
    body: bytes | None = None  # what every answer says (else "answer <status>")

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.deliveries.append(Delivery(dict(request.headers), await request.body()))
            await asyncio.sleep(self.delay)
            answer = self.script.pop(0) if self.script else 200
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            return Response(self.body or f"answer {status}".encode(), status_code=status, headers=headers)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])
