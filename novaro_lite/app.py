"""create_app(): the only place that wires routes, error handlers and the lifespan; and the app factory
uvicorn calls in each worker process of `serve --workers N`."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp

from novaro_lite.api import metrics as metrics_api
from novaro_lite.api.openai.errors import scoped
from novaro_lite.api.routes import build_routes, operations
from novaro_lite.api.web.disconnect import client_disconnected
from novaro_lite.api.web.problems import problem_response, server_error_response
from novaro_lite.config.settings import Settings
from novaro_lite.delivery.scheduler import Scheduler
from novaro_lite.errors import AppError
from novaro_lite.observability.logs import configure_logging
from novaro_lite.observability.metrics import Metrics
from novaro_lite.observability.middleware import RequestContext
from novaro_lite.outbound.client import build_http_client
from novaro_lite.outbound.upstream import build_upstream
from novaro_lite.providers.registry import build_providers
from novaro_lite.services import Services
from novaro_lite.storage.store import Storage
from novaro_lite.workers.handoff import WorkerShare, worker_setup
from novaro_lite.workers.lifetime import follow_parent
from novaro_lite.workers.rate_limits import open_limiter


class App(Starlette):
    """Starlette with RequestContext outside its error middleware, so a 500 has a request id and is counted too."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        self.metrics = metrics
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return RequestContext(super().build_middleware_stack(), metrics=self.metrics)


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    share: WorkerShare | None = None,
) -> Starlette:
    """Build the ASGI app; its lifespan opens the database and the outbound clients and puts Services on app.state.

    `transport` (a test seam) carries every outbound call, providers' and webhooks'. `share`: this app is one
    worker of `serve --workers N`; it counts metrics and rate limits with the others.
    """
    metrics = Metrics(enabled=settings.metrics.enabled, multiprocess_dir=share.metrics_dir if share else None)
    routes = build_routes(operations())
    if settings.metrics.enabled:
        routes += metrics_api.routes()
    return App(
        metrics=metrics,
        routes=routes,
        exception_handlers={  # OpenAI's error shape under /v1, problem+json everywhere else
            AppError: scoped(problem_response),
            HTTPException: scoped(problem_response),
            ClientDisconnect: client_disconnected,
            Exception: scoped(server_error_response),
        },
        lifespan=_lifespan(settings, metrics, transport, clock, share),
    )


def _lifespan(
    settings: Settings,
    metrics: Metrics,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], float],
    share: WorkerShare | None,
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """The app's lifespan: open storage, the HTTP clients and the rate limiter, then run the scheduler."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler: Scheduler | None = None

        def wake_here(when: float) -> None:
            if scheduler is not None:
                scheduler.wake(when)

        def wake(when: float) -> None:  # work is due at `when`: this process and every other on the database
            wake_here(when)
            storage.database.notify_due(when)

        async with (
            Storage.open(
                settings.database,
                clock,
                synchronous=settings.sqlite_synchronous,
                erase_seconds=settings.erase_seconds,
                pool_size=settings.database_pool_size,
            ) as storage,
            contextlib.aclosing(build_upstream(transport, settings.provider_proxies)) as upstream,
            build_http_client(transport, policy=settings.webhooks.policy) as webhook_http,
            open_limiter(share.rate_limits_path if share else None) as limiter,
        ):
            services = Services(
                settings=settings,
                storage=storage,
                clock=clock,
                providers=build_providers(settings, upstream),
                webhook_http=webhook_http,
                wake=wake,
                metrics=metrics,
                limiter=limiter,
            )
            app.state.services = services
            if settings.scheduler.enabled:
                scheduler = Scheduler(services)
                scheduler.start()
                storage.database.on_due(wake_here)
            app.state.scheduler = scheduler
            try:
                yield
            finally:
                if scheduler is not None:
                    await scheduler.stop()

    return lifespan


def create_app_from_environment() -> Starlette:
    """Build the app of one worker of `serve --workers N` from what its parent put in the environment.

    uvicorn imports this by name in every worker process it spawns and calls it without arguments
    (factory=True); workers/handoff.py and config/codec.py say what travels through the environment, and why.
    """
    setup = worker_setup(os.environ)
    follow_parent(setup.parent_pid)
    configure_logging(setup.settings.log_level, setup.settings.log_format)  # a spawned worker starts bare
    return create_app(setup.settings, share=setup.share)
