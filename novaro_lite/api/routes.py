"""The route table: every operation the API has, and the Starlette routes built from it."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from novaro_lite.api import agents, auth, docs, health, messages
from novaro_lite.api.deps import Endpoint
from novaro_lite.api.openapi import build_openapi
from novaro_lite.api.operation import Operation
from novaro_lite.api.schemas import (
    AgentCreate,
    AgentOut,
    AgentPage,
    AgentPatch,
    Health,
    MessagesRequest,
    MessagesResponse,
    PageQuery,
    TokenInfo,
)

V1 = "/api/v1"


def operations() -> tuple[Operation, ...]:
    return (
        Operation(
            "GET",
            "/healthz",
            "health",
            health.healthz,
            "Report liveness and database health",
            "meta",
            response=Health,
            also=(503,),
            is_public=True,
        ),
        Operation(
            "GET",
            f"{V1}/auth/verify",
            "auth:verify",
            auth.verify,
            "Check a token and show whose it is",
            "auth",
            response=TokenInfo,
        ),
        Operation(
            "POST",
            f"{V1}/agents",
            "agents:create",
            agents.create_agent,
            "Create an agent",
            "agents",
            status=201,
            body=AgentCreate,
            response=AgentOut,
        ),
        Operation(
            "GET",
            f"{V1}/agents",
            "agents:list",
            agents.list_agents,
            "List agents, oldest first",
            "agents",
            query=PageQuery,
            response=AgentPage,
        ),
        Operation(
            "GET", f"{V1}/agents/{{id}}", "agents:get", agents.get_agent, "Show an agent", "agents", response=AgentOut
        ),
        Operation(
            "PATCH",
            f"{V1}/agents/{{id}}",
            "agents:update",
            agents.update_agent,
            "Change some fields of an agent",
            "agents",
            body=AgentPatch,
            response=AgentOut,
        ),
        Operation(
            "DELETE",
            f"{V1}/agents/{{id}}",
            "agents:delete",
            agents.delete_agent,
            "Delete an agent",
            "agents",
            status=204,
        ),
        Operation(
            "POST",
            f"{V1}/messages",
            "messages:create",
            messages.create_message,
            "Get an agent's reply now, whole or streamed",
            "messages",
            body=MessagesRequest,
            response=MessagesResponse,
            errors=(404,),
            streams=True,
        ),
    )


def _dispatch(endpoints: dict[str, Endpoint]) -> Endpoint:
    """One endpoint per path that picks the handler by method, so a 405 lists every allowed method."""

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return endpoint


def build_routes(ops: Sequence[Operation]) -> list[BaseRoute]:
    """Return the app's routes: the operations (token-guarded unless public), the spec and the docs."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for op in ops:
        by_path.setdefault(op.path, {})[op.method] = op.endpoint if op.is_public else auth.require_token(op.endpoint)
    routes: list[BaseRoute] = [
        Route(path, _dispatch(endpoints), methods=list(endpoints)) for path, endpoints in by_path.items()
    ]
    routes += [
        Route("/openapi.json", docs.openapi_endpoint(build_openapi(ops)), methods=["GET"], name="docs:openapi"),
        Route("/scalar", docs.scalar_page, methods=["GET"], name="docs:scalar"),
        Route("/static/scalar/standalone.js", docs.scalar_bundle, methods=["GET"], name="docs:scalar-bundle"),
    ]
    return routes
