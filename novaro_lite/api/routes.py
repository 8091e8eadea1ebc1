"""The route table: every operation the API has, and the Starlette routes built from it."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from novaro_lite.api import (
    agent_batches,
    agents,
    auth,
    cards,
    contexts,
    dashboard,
    health,
    messages,
    requests,
    tokens,
    webhooks,
)
from novaro_lite.api.deps import NUL, NUL_MESSAGE, Endpoint, invalid
from novaro_lite.api.docs import pages as docs
from novaro_lite.api.docs.openapi import build_openapi
from novaro_lite.api.openai import handlers as openai_compat
from novaro_lite.api.operation import Operation
from novaro_lite.api.schemas.agent_batches import GenerateAgents, GeneratedAgents
from novaro_lite.api.schemas.agents import AgentCreate, AgentOut, AgentPage, AgentPatch
from novaro_lite.api.schemas.cards import Card, CardQuery
from novaro_lite.api.schemas.contexts import ContextCreate, ContextOut, ContextPage, ContextPatch, DeleteQuery
from novaro_lite.api.schemas.health import Health, Readiness
from novaro_lite.api.schemas.messages import MessagesRequest, MessagesResponse
from novaro_lite.api.schemas.paging import PageQuery
from novaro_lite.api.schemas.requests import (
    AttemptList,
    MessageRequestCreate,
    MessageRequestOut,
    MessageRequestPage,
    MessageRequestQuery,
)
from novaro_lite.api.schemas.tokens import TokenCreate, TokenInfo, TokenList, TokenWithSecret
from novaro_lite.api.schemas.webhooks import (
    WebhookCreate,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
    WebhookTestResult,
    WebhookWithSecret,
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
            "/readyz",
            "ready",
            health.readyz,
            "Report readiness: the database takes writes and the scheduler runs",
            "meta",
            response=Readiness,
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
            f"{V1}/agents/generate",
            "agents:generate",
            agent_batches.generate,
            "Create a batch of agents written by the model from your description and data",
            "agents",
            status=201,
            body=GenerateAgents,
            response=GeneratedAgents,
            errors=(502, 503, 504),
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
        *_card_operations(),
        *_context_operations(),
        *_webhook_operations(),
        *_request_operations(),
        *_token_operations(),
        *openai_compat.operations(),
    )


def _card_operations() -> tuple[Operation, ...]:
    return (
        Operation("POST", f"{V1}/agents/import", "agents:import", cards.import_card,
                  "Create an agent from a Character Card V2/V3 (JSON, or a PNG carrying it; up to 5 MB)", "agents",
                  status=201, body=Card, response=AgentOut, binary="image/png"),
        Operation("GET", f"{V1}/agents/{{id}}/card", "agents:card", cards.get_card,
                  "Export an agent as a Character Card V3 (JSON, or a PNG with V2 and V3 chunks)", "agents",
                  query=CardQuery, response=Card, binary="image/png"),
    )  # fmt: skip


def _context_operations() -> tuple[Operation, ...]:
    path, item = f"{V1}/contexts", f"{V1}/contexts/{{id}}"
    return (
        Operation("POST", path, "contexts:create", contexts.create_context, "Create a context", "contexts",
                  status=201, body=ContextCreate, response=ContextOut),
        Operation("GET", path, "contexts:list", contexts.list_contexts, "List contexts, oldest first", "contexts",
                  query=PageQuery, response=ContextPage),
        Operation("GET", item, "contexts:get", contexts.get_context, "Show a context", "contexts", response=ContextOut),
        Operation("PATCH", item, "contexts:update", contexts.update_context, "Change a context's name or content",
                  "contexts", body=ContextPatch, response=ContextOut),
        Operation("DELETE", item, "contexts:delete", contexts.delete_context,
                  "Delete a context (409 while agents have it, unless force=true)", "contexts", status=204,
                  query=DeleteQuery, errors=(409,)),
    )  # fmt: skip


def _webhook_operations() -> tuple[Operation, ...]:
    path, item = f"{V1}/webhooks", f"{V1}/webhooks/{{id}}"
    return (
        Operation("POST", path, "webhooks:create", webhooks.create_webhook,
                  "Create a webhook (its secret is shown once)", "webhooks", status=201, body=WebhookCreate,
                  response=WebhookWithSecret),
        Operation("GET", path, "webhooks:list", webhooks.list_webhooks, "List webhooks, oldest first", "webhooks",
                  query=PageQuery, response=WebhookPage),
        Operation("GET", item, "webhooks:get", webhooks.get_webhook, "Show a webhook", "webhooks", response=WebhookOut),
        Operation("PATCH", item, "webhooks:update", webhooks.update_webhook, "Change a webhook's url, description or "
                  "enabled", "webhooks", body=WebhookPatch, response=WebhookOut),
        Operation("DELETE", item, "webhooks:delete", webhooks.delete_webhook, "Delete a webhook", "webhooks",
                  status=204),
        Operation("POST", f"{item}/rotate-secret", "webhooks:rotate", webhooks.rotate_secret,
                  "Replace the secret; the old one keeps signing for 24 h", "webhooks", response=WebhookWithSecret),
        Operation("POST", f"{item}/test", "webhooks:test", webhooks.test_webhook,
                  "Send a signed ping and show what the receiver answered", "webhooks", response=WebhookTestResult),
    )  # fmt: skip


def _request_operations() -> tuple[Operation, ...]:
    path, item = f"{V1}/message-requests", f"{V1}/message-requests/{{id}}"
    return (
        Operation("POST", path, "requests:create", requests.create_request,
                  "Ask for a reply at a webhook, timed like a person (202 once stored)", "message-requests",
                  status=202, body=MessageRequestCreate, response=MessageRequestOut, errors=(404, 409),
                  headers=(("Idempotency-Key", "Retrying with the same key and body within 24 h returns the first"
                            " response; with a different body, 409."),)),
        Operation("GET", path, "requests:list", requests.list_requests, "List message requests, oldest first",
                  "message-requests", query=MessageRequestQuery, response=MessageRequestPage),
        Operation("GET", item, "requests:get", requests.get_request, "Show a message request's status",
                  "message-requests", response=MessageRequestOut),
        Operation("DELETE", item, "requests:cancel", requests.cancel_request, "Cancel a request before delivery",
                  "message-requests", response=MessageRequestOut, errors=(409,)),
        Operation("POST", f"{item}/redeliver", "requests:redeliver", requests.redeliver_request,
                  "Send a scheduled request now", "message-requests", status=202, response=MessageRequestOut,
                  errors=(409,)),
        Operation("GET", f"{item}/attempts", "requests:attempts", requests.list_attempts,
                  "List a request's delivery attempts", "message-requests", response=AttemptList),
    )  # fmt: skip


def _token_operations() -> tuple[Operation, ...]:
    path = f"{V1}/tokens"
    return (
        Operation("GET", path, "tokens:list", tokens.list_tokens, "List your account's tokens (never their secrets)",
                  "tokens", response=TokenList),
        Operation("POST", path, "tokens:create", tokens.create_token,
                  "Create a token for your account (its value is shown once)", "tokens", status=201,
                  body=TokenCreate, response=TokenWithSecret),
        Operation("DELETE", f"{path}/{{id}}", "tokens:revoke", tokens.revoke_token,
                  "Revoke a token; requests that use it get 401 at once", "tokens", status=204),
    )  # fmt: skip


def _dispatch(endpoints: dict[str, Endpoint]) -> Endpoint:
    """One endpoint per path that picks the handler by method, so a 405 lists every allowed method."""

    async def endpoint(request: Request) -> Response:
        for name, value in request.path_params.items():
            if NUL in str(value):
                raise invalid(["path", name], NUL_MESSAGE)
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
        Route("/problems/{slug}", docs.problem_page_endpoint(), methods=["GET"], name="docs:problem"),
        *dashboard.routes(),
    ]
    return routes
