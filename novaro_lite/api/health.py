"""GET /healthz (liveness: is the process up and its database usable) and GET /readyz (readiness)."""

from __future__ import annotations

import asyncio
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite import __version__
from novaro_lite.api.schemas.health import Health, Readiness
from novaro_lite.api.web.deps import json_response, services
from novaro_lite.api.web.operation import Operation
from novaro_lite.delivery.scheduler import Scheduler
from novaro_lite.errors import UnavailableError

READY_TIMEOUT_SECONDS = 2.0  # a writer stuck behind a long transaction is not ready either


async def healthz(request: Request) -> Response:
    try:
        await services(request).storage.database.ping()
    except UnavailableError:
        return json_response(Health(status="unavailable", version=__version__, database="unavailable"), 503)
    return json_response(Health(status="ok", version=__version__, database="ok"))


async def readyz(request: Request) -> Response:
    """200 when a write commits and the scheduler runs (or is switched off by config); 503 otherwise."""
    svc = services(request)
    database: Literal["ok", "unavailable"] = "ok"
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await svc.storage.database.check_writable()
    except (UnavailableError, TimeoutError):
        database = "unavailable"
    scheduler: Scheduler | None = getattr(request.app.state, "scheduler", None)
    state: Literal["running", "stopped", "disabled"] = "disabled"
    if svc.settings.scheduler.enabled:
        state = "running" if scheduler is not None and scheduler.is_running else "stopped"
    ready = database == "ok" and state != "stopped"
    body = Readiness(status="ok" if ready else "unavailable", database=database, scheduler=state)
    return json_response(body, 200 if ready else 503)


OPERATIONS = (
    Operation(
        "GET",
        "/healthz",
        "health",
        healthz,
        "Report liveness and database health",
        "meta",
        response=Health,
        also=(503,),
        is_public=True,
    ),
    Operation(
        "GET",
        "/readyz",
        "ready",
        readyz,
        "Report readiness: the database takes writes and the scheduler runs",
        "meta",
        response=Readiness,
        also=(503,),
        is_public=True,
    ),
)
