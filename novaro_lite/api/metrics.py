"""GET /metrics: the Prometheus text exposition, behind its own bearer token ([metrics] token_env).

Registered only when [metrics] enabled is true. API tokens do not open it and its token opens nothing
else, so a scraper's credential is worth nothing to anyone who reads the Prometheus config.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from novaro_lite.api.web.deps import services
from novaro_lite.errors import AuthError
from novaro_lite.observability.metrics import CONTENT_TYPE, QueueStats


async def metrics_endpoint(request: Request) -> Response:
    svc = services(request)
    expected = svc.settings.metrics.token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if (
        expected is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), str(expected).encode())
    ):
        raise AuthError("/metrics needs 'Authorization: Bearer <token>' with the token from [metrics] token_env.")
    pending, oldest = await svc.storage.queue.pending_stats(svc.clock())
    body = svc.metrics.render(QueueStats(pending, oldest, svc.storage.database.erasure_overdue()))
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    return [Route("/metrics", metrics_endpoint, methods=["GET"], name="metrics")]
