"""Operation: one documented endpoint. Each resource's module lists its own beside its handlers; routes.py
gathers them, and openapi.py and the router both read the list."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from novaro_lite.api.web.deps import Endpoint
from novaro_lite.observability.logs import template

V1 = "/api/v1"


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    endpoint: Endpoint
    summary: str
    tag: str
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    also: tuple[int, ...] = ()  # other statuses that answer with `response` (healthz's 503)
    headers: tuple[tuple[str, str], ...] = ()  # optional request headers: (name, description)
    streams: bool = False  # may also answer text/event-stream
    events: Mapping[str, Any] | None = None  # the schema of its events, when it answers only text/event-stream
    binary: str | None = None  # a media type (image/png) the body may be instead of JSON, and the answer too
    body_media: tuple[str, ...] = ()  # the body is raw bytes of one of these media types (no JSON body)
    answer_media: tuple[str, ...] = ()  # the answer is raw bytes of one of these media types (no JSON answer)
    is_public: bool = False
    in_schema: bool = True
    openai: bool = False  # the OpenAI-compatible face: errors in OpenAI's shape, and 400 where others say 422

    @property
    def path_params(self) -> list[str]:
        return [part[1:-1].partition(":")[0] for part in self.path.split("/") if part.startswith("{")]

    @property
    def documented_path(self) -> str:
        """The path as OpenAPI (and the logs and metrics) write it: `{id}` for the router's `{id:path}`."""
        return template(self.path)

    @property
    def error_statuses(self) -> list[int]:
        """Every problem status this operation can answer, derived from what it takes."""
        statuses = set(self.errors) | {500}
        if not self.is_public:
            statuses |= {401, 429}
        if self.body is not None:
            statuses |= {400, 413, 422}
        if self.streams:
            statuses |= {502, 503, 504}
        if self.query is not None:
            statuses.add(422)
        if self.path_params:
            statuses.add(404)
        if self.openai and 422 in statuses:
            statuses = statuses - {422} | {400}
        return sorted(statuses)
