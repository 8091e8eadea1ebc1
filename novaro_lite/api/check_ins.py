"""Check-in endpoints: schedule a message the agent writes first (201, at a drawn moment), list, show, cancel."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.requests import IDEMPOTENCY_KEY_MAX
from novaro_lite.api.schemas.check_ins import (
    CheckInCreate,
    CheckInOut,
    CheckInPage,
    CheckInQuery,
    QuietHoursModel,
    WindowIn,
)
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, read_query, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.config.settings import Settings
from novaro_lite.domain.arrival import plan_check_in
from novaro_lite.domain.chance import UNSEEDED
from novaro_lite.domain.check_ins import MAX_WINDOW_SECONDS, Moment, NoMomentError, QuietHours, draw_moment
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.errors import ConflictError
from novaro_lite.storage.check_ins import NewCheckIn, RefusedError
from novaro_lite.storage.store import Storage


def _bound(value: int | datetime.datetime, now: float) -> float:
    return value.timestamp() if isinstance(value, datetime.datetime) else now + value


def _window(window: WindowIn, now: float) -> tuple[float, float]:
    """The window in unix seconds: after now, at most MAX_WINDOW_SECONDS ahead, not empty."""
    not_before, not_after = max(now, _bound(window.after, now)), _bound(window.before, now)
    if not_after <= not_before:
        raise invalid(["body", "window"], "must end after it starts, and after now")
    if not_after > now + MAX_WINDOW_SECONDS:
        raise invalid(["body", "window", "before"], f"must be at most {MAX_WINDOW_SECONDS // 86400} days from now")
    return not_before, not_after


def quiet_hours(settings: Settings, given: QuietHoursModel | None) -> QuietHours:
    """The user's quiet hours as given, else the server's [check_ins] default_quiet_hours."""
    if given is not None:
        return QuietHours(given.start, given.end)
    start, _, end = settings.check_ins.default_quiet_hours.partition("-")
    return QuietHours(start, end)


async def schedule(
    storage: Storage,
    settings: Settings,
    account: str,
    body: CheckInCreate,
    now: float,
    *,
    idempotency_key: str | None = None,
    body_hash: str | None = None,
    accepted: Callable[[MessageRequest], str] = lambda check_in: "",
) -> str:
    """Draw the check-in's moment and store it under the rules against spam (RefusedError if one refuses);
    return the response that accepts it. The API and `novaro-lite check-in create` both schedule through here."""
    agent = await storage.agents.get(account, body.agent_id)
    webhook = await storage.webhooks.get(account, body.webhook_id)
    if not webhook.enabled:
        raise ConflictError(f"The webhook {webhook.id!r} is disabled ({webhook.disabled_reason or 'by its owner'}).")
    zone = body.timezone or agent.timezone
    moment = Moment(*_window(body.window, now), zone, quiet_hours(settings, body.quiet_hours))
    try:
        drawn = draw_moment(agent, moment, UNSEEDED)
    except NoMomentError as exc:
        raise invalid(["body", "window"], f"no moment fits: {exc}") from None
    plan = plan_check_in(agent, now, drawn, time_scale=settings.delivery.time_scale)  # scaled, as for replies
    messages = [message.to_domain() for message in body.messages]
    new = NewCheckIn(
        body.agent_id, body.webhook_id, body.conversation_id, body.reference, messages, body.topic, moment, plan
    )
    return await storage.check_ins.create(
        account,
        new,
        settings.check_ins.rules,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
        accepted=accepted,
    )


async def create_check_in(request: Request) -> Response:
    body = await read_body(request, CheckInCreate)
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
        raise invalid(["header", "Idempotency-Key"], f"must be 1 to {IDEMPOTENCY_KEY_MAX} characters")
    svc, account = services(request), caller(request).account
    body_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest() if key else None
    if key is not None and body_hash is not None:
        replayed = await svc.storage.requests.replay(account, key, body_hash)
        if replayed is not None:
            return Response(replayed, status_code=201, media_type="application/json")
    stored: list[MessageRequest] = []

    def accepted(check_in: MessageRequest) -> str:
        stored.append(check_in)
        return CheckInOut.of(check_in).model_dump_json(by_alias=True)

    try:
        response = await schedule(
            svc.storage,
            svc.settings,
            account,
            body,
            svc.clock(),
            idempotency_key=key,
            body_hash=body_hash,
            accepted=accepted,
        )
    except RefusedError as exc:
        svc.metrics.check_in("refused", exc.rule)
        raise
    if stored:  # not an idempotent replay
        svc.wake(stored[-1].scheduled_for)
        svc.metrics.check_in("scheduled")
    return Response(response, status_code=201, media_type="application/json")


async def list_check_ins(request: Request) -> Response:
    query = read_query(request, CheckInQuery)
    found = await services(request).storage.check_ins.list(
        caller(request).account,
        query.listing(),
        status=query.status,
        agent_id=query.agent_id,
        conversation_id=query.conversation_id,
        reference=query.reference,
    )
    return json_response(
        CheckInPage(data=[CheckInOut.of(c) for c in found.items], next_cursor=found.next_cursor, total=found.total)
    )


async def get_check_in(request: Request) -> Response:
    found = await services(request).storage.check_ins.get(caller(request).account, request.path_params["id"])
    return json_response(CheckInOut.of(found))


async def cancel_check_in(request: Request) -> Response:
    svc = services(request)
    canceled = await svc.storage.check_ins.cancel(caller(request).account, request.path_params["id"])
    svc.metrics.check_in("canceled", "canceled")
    return json_response(CheckInOut.of(canceled))


PATH = f"{V1}/check-ins"
ITEM = f"{PATH}/{{id}}"
OPERATIONS = (
    Operation(
        "POST",
        PATH,
        "check_ins:create",
        create_check_in,
        "Schedule a message the agent writes first, at a drawn human moment (201 once stored)",
        "check-ins",
        status=201,
        body=CheckInCreate,
        response=CheckInOut,
        errors=(404, 409),
        headers=(
            (
                "Idempotency-Key",
                "Retrying with the same key and body within 24 h returns the first response; with a different"
                " body, 409.",
            ),
        ),
    ),
    Operation(
        "GET",
        PATH,
        "check_ins:list",
        list_check_ins,
        "List check-ins, oldest first",
        "check-ins",
        query=CheckInQuery,
        response=CheckInPage,
    ),
    Operation("GET", ITEM, "check_ins:get", get_check_in, "Show a check-in", "check-ins", response=CheckInOut),
    Operation(
        "DELETE",
        ITEM,
        "check_ins:cancel",
        cancel_check_in,
        "Cancel a check-in before it is written",
        "check-ins",
        response=CheckInOut,
        errors=(409,),
    ),
)
