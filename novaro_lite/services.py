"""Services: the one object the lifespan builds and every endpoint reaches through api/web/deps.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import httpx

from novaro_lite.config.settings import Settings
from novaro_lite.domain.rate_limits import Limiter, RateLimiter
from novaro_lite.observability.metrics import Metrics
from novaro_lite.outbound.playground import Playground
from novaro_lite.providers.base import Provider
from novaro_lite.storage.store import Storage


@dataclasses.dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    clock: Callable[[], float]
    providers: Mapping[str, Provider]  # each calls its upstream through one shared outbound/upstream.py
    webhook_http: httpx.AsyncClient  # webhooks' client: connects only where the target policy allows
    wake: Callable[[float], None]  # "a request is due at this unix time": moves the scheduler's next dispatch
    metrics: Metrics = dataclasses.field(default_factory=lambda: Metrics(enabled=False))
    limiter: Limiter = dataclasses.field(default_factory=RateLimiter)  # per-token counts (workers: shared)
    playground: Playground = dataclasses.field(default_factory=Playground)  # this process's in-memory receiver
