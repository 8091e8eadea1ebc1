"""Webhooks endpoints: where an account's async replies go, their secrets, and a signed test ping."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.schemas.paging import PageQuery
from novaro_lite.api.schemas.webhooks import (
    WebhookCreate,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
    WebhookTestResult,
    WebhookWithSecret,
)
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, read_query, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.domain.ids import new_id
from novaro_lite.domain.requests import MessageRequest, webhook_body
from novaro_lite.domain.webhooks import secret_digest
from novaro_lite.outbound.targets import TargetRefusedError, check_target
from novaro_lite.outbound.webhook_sender import Answer, WebhookSender


async def _check_url(request: Request, url: str) -> None:
    try:
        await check_target(url, services(request).settings.webhooks.policy)
    except TargetRefusedError as exc:
        raise invalid(["body", "url"], str(exc)) from None


async def create_webhook(request: Request) -> Response:
    body = await read_body(request, WebhookCreate)
    await _check_url(request, body.url)
    webhook = await services(request).storage.webhooks.create(
        caller(request).account, body.url, body.description, body.enabled, tuple(body.events)
    )
    return json_response(WebhookWithSecret.of(webhook), 201)


async def list_webhooks(request: Request) -> Response:
    listing = read_query(request, PageQuery).listing()
    found = await services(request).storage.webhooks.list(caller(request).account, listing)
    paused = await services(request).storage.webhooks.paused_counts([w.id for w in found.items])
    data = [WebhookOut.of(w, paused.get(w.id, 0)) for w in found.items]
    return json_response(WebhookPage(data=data, next_cursor=found.next_cursor, total=found.total))


async def _paused(request: Request, webhook_id: str) -> int:
    return (await services(request).storage.webhooks.paused_counts([webhook_id])).get(webhook_id, 0)


async def get_webhook(request: Request) -> Response:
    webhook = await services(request).storage.webhooks.get(caller(request).account, request.path_params["id"])
    return json_response(WebhookOut.of(webhook, await _paused(request, webhook.id)))


async def update_webhook(request: Request) -> Response:
    changes = (await read_body(request, WebhookPatch)).changes()
    if "url" in changes:
        await _check_url(request, changes["url"])
    svc = services(request)
    webhook = await svc.storage.webhooks.update(caller(request).account, request.path_params["id"], changes)
    if changes.get("enabled"):
        svc.wake(svc.clock())  # its paused requests are due again
    return json_response(WebhookOut.of(webhook, await _paused(request, webhook.id)))


async def delete_webhook(request: Request) -> Response:
    await services(request).storage.webhooks.delete(caller(request).account, request.path_params["id"])
    return Response(status_code=204)


async def rotate_secret(request: Request) -> Response:
    store = services(request).storage.webhooks
    webhook = await store.rotate_secret(caller(request).account, request.path_params["id"])
    return json_response(WebhookWithSecret.of(webhook, await _paused(request, webhook.id)))


async def test_webhook(request: Request) -> Response:
    """Send a signed ping shaped like a delivery (no messages) and report what the receiver answered."""
    svc = services(request)
    webhook = await svc.storage.webhooks.get(caller(request).account, request.path_params["id"])
    ping_id = new_id("ping", svc.clock())
    ping = MessageRequest(
        id=ping_id,
        account=webhook.account,
        agent_id="",
        webhook_id=webhook.id,
        reference="novaro-lite:ping",
        status="delivering",
        scheduled_for=0,
        attempts=0,
        last_error=None,
        last_status_code=None,
        delivered_at=None,
        created_at=0,
        updated_at=0,
        messages=None,
        context_ids=(),
        reply=None,
    )
    began = time.monotonic()
    try:
        sender = WebhookSender(svc.webhook_http, svc.settings.webhooks, svc.clock, svc.playground)
        answer = await sender.post(webhook, ping_id, webhook_body(ping, (), secret_digest(webhook.secret)))
    except TargetRefusedError as exc:
        answer = Answer(None, None, None, str(exc))
    result = WebhookTestResult(
        delivered=answer.is_success,
        status_code=answer.status_code,
        duration_ms=int((time.monotonic() - began) * 1000),
        response_body=answer.body,
        error=answer.error,
    )
    return json_response(result)


PATH = f"{V1}/webhooks"
ITEM = f"{PATH}/{{id}}"
OPERATIONS = (
    Operation(
        "POST",
        PATH,
        "webhooks:create",
        create_webhook,
        "Create a webhook (its secret is shown once)",
        "webhooks",
        status=201,
        body=WebhookCreate,
        response=WebhookWithSecret,
    ),
    Operation(
        "GET",
        PATH,
        "webhooks:list",
        list_webhooks,
        "List webhooks, oldest or newest first, searched by URL or description",
        "webhooks",
        query=PageQuery,
        response=WebhookPage,
    ),
    Operation("GET", ITEM, "webhooks:get", get_webhook, "Show a webhook", "webhooks", response=WebhookOut),
    Operation(
        "PATCH",
        ITEM,
        "webhooks:update",
        update_webhook,
        "Change a webhook's url, description or enabled",
        "webhooks",
        body=WebhookPatch,
        response=WebhookOut,
    ),
    Operation("DELETE", ITEM, "webhooks:delete", delete_webhook, "Delete a webhook", "webhooks", status=204),
    Operation(
        "POST",
        f"{ITEM}/rotate-secret",
        "webhooks:rotate",
        rotate_secret,
        "Replace the secret; the old one keeps signing for 24 h",
        "webhooks",
        response=WebhookWithSecret,
    ),
    Operation(
        "POST",
        f"{ITEM}/test",
        "webhooks:test",
        test_webhook,
        "Send a signed ping and show what the receiver answered",
        "webhooks",
        response=WebhookTestResult,
    ),
)
