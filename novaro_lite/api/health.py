"""GET /healthz: is the process up and its database usable."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite import __version__
from novaro_lite.api.deps import json_response, services
from novaro_lite.api.schemas import Health
from novaro_lite.errors import UnavailableError


async def healthz(request: Request) -> Response:
    try:
        await services(request).storage.database.ping()
    except UnavailableError:
        return json_response(Health(status="unavailable", version=__version__, database="unavailable"), 503)
    return json_response(Health(status="ok", version=__version__, database="ok"))
