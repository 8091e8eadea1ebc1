"""The route table: the operations every resource module lists, gathered, and the Starlette routes built from them."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from novaro_lite.api import (
    agent_batches,
    agents,
    auth,
    avatars,
    cards,
    check_in_rules,
    check_ins,
    contexts,
    dashboard,
    groups,
    health,
    messages,
    playground,
    prompt_preview,
    requests,
    tokens,
    webhooks,
)
from novaro_lite.api.docs import pages as docs
from novaro_lite.api.docs.openapi import build_openapi
from novaro_lite.api.openai import handlers as openai_compat
from novaro_lite.api.web.deps import Endpoint, invalid
from novaro_lite.api.web.operation import Operation
from novaro_lite.domain.text import string_fault


def operations() -> tuple[Operation, ...]:
    """Every operation, each resource's beside its handlers; this order is the order of /openapi.json's paths."""
    return (
        *health.OPERATIONS,
        *auth.OPERATIONS,
        *agents.OPERATIONS,
        *prompt_preview.OPERATIONS,
        *agent_batches.OPERATIONS,
        *messages.OPERATIONS,
        *cards.OPERATIONS,
        *avatars.OPERATIONS,
        *contexts.OPERATIONS,
        *groups.OPERATIONS,
        *webhooks.OPERATIONS,
        *requests.OPERATIONS,
        *check_ins.OPERATIONS,
        *check_in_rules.OPERATIONS,
        *tokens.OPERATIONS,
        *playground.OPERATIONS,
        *openai_compat.OPERATIONS,
    )


def _dispatch(endpoints: dict[str, Endpoint]) -> Endpoint:
    """One endpoint per path that picks the handler by method, so a 405 lists every allowed method."""

    async def endpoint(request: Request) -> Response:
        for name, value in request.path_params.items():
            if (message := string_fault(str(value))) is not None:
                raise invalid(["path", name], message)
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return endpoint


def build_routes(ops: Sequence[Operation]) -> list[BaseRoute]:
    """Return the app's routes: the operations (token-guarded unless public), the spec, the docs, the dashboard."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for op in ops:
        by_path.setdefault(op.path, {})[op.method] = op.endpoint if op.is_public else auth.require_token(op.endpoint)
    # Literal paths first, so /agents/generate is never taken for /agents/{id} (whose 405 would list the
    # wrong methods).
    ordered = sorted(by_path.items(), key=lambda item: item[0].count("{"))
    routes: list[BaseRoute] = [
        Route(path, _dispatch(endpoints), methods=list(endpoints)) for path, endpoints in ordered
    ]
    routes += [
        Route("/openapi.json", docs.openapi_endpoint(build_openapi(ops)), methods=["GET"], name="docs:openapi"),
        Route("/scalar", docs.scalar_page, methods=["GET"], name="docs:scalar"),
        Route("/static/scalar/standalone.js", docs.scalar_bundle, methods=["GET"], name="docs:scalar-bundle"),
        Route("/static/scalar/start.js", docs.scalar_start, methods=["GET"], name="docs:scalar-start"),
        Route("/problems/{slug}", docs.problem_page_endpoint(), methods=["GET"], name="docs:problem"),
        *dashboard.routes(),
    ]
    return routes
