"""Recurring check-in endpoints: a rule ("every weekday around 08:30") that yields one check-in at a time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.check_ins import quiet_hours
from novaro_lite.api.schemas.check_ins import CheckInRuleCreate, CheckInRuleOut, CheckInRulePage, CheckInRuleQuery
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, read_query, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.delivery.check_ins import yield_next
from novaro_lite.domain.chance import UNSEEDED
from novaro_lite.domain.check_in_rules import YIELD_LEAD_SECONDS, CheckInRule, Recurrence, next_window
from novaro_lite.errors import ConflictError


async def create_rule(request: Request) -> Response:
    body = await read_body(request, CheckInRuleCreate)
    svc, account = services(request), caller(request).account
    agent = await svc.storage.agents.get(account, body.agent_id)
    webhook = await svc.storage.webhooks.get(account, body.webhook_id)
    if not webhook.enabled:
        raise ConflictError(f"The webhook {webhook.id!r} is disabled ({webhook.disabled_reason or 'by its owner'}).")
    until = None if body.until is None else body.until.timestamp()
    recurrence = Recurrence(body.at, body.spread_minutes, tuple(dict.fromkeys(body.days)), until)
    first = next_window(agent.timezone, recurrence, svc.clock())
    if first is None:
        raise invalid(["body", "until"], "leaves no occurrence: it is before the next one")
    rule = await svc.storage.check_in_rules.create(
        CheckInRule(
            id="",
            account=account,
            agent_id=agent.id,
            webhook_id=webhook.id,
            conversation_id=body.conversation_id,
            reference=body.reference,
            topic=body.topic,
            recurrence=recurrence,
            moment_zone=body.timezone or agent.timezone,
            quiet_hours=quiet_hours(svc.settings, body.quiet_hours),
            status="active",
            next_after=first[0],
            last_skipped=None,
            created_at=0,
            updated_at=0,
        )
    )
    if first[0] <= svc.clock() + YIELD_LEAD_SECONDS:  # the scheduler's next run would: yield it now
        await yield_next(svc, rule, UNSEEDED)
    found = await svc.storage.check_in_rules.get(account, rule.id)
    return json_response(CheckInRuleOut.of(found), status=201)


async def list_rules(request: Request) -> Response:
    query = read_query(request, CheckInRuleQuery)
    found = await services(request).storage.check_in_rules.list(
        caller(request).account, query.listing(), agent_id=query.agent_id
    )
    page = CheckInRulePage(
        data=[CheckInRuleOut.of(r) for r in found.items], next_cursor=found.next_cursor, total=found.total
    )
    return json_response(page)


async def get_rule(request: Request) -> Response:
    found = await services(request).storage.check_in_rules.get(caller(request).account, request.path_params["id"])
    return json_response(CheckInRuleOut.of(found))


async def cancel_rule(request: Request) -> Response:
    found = await services(request).storage.check_in_rules.cancel(caller(request).account, request.path_params["id"])
    return json_response(CheckInRuleOut.of(found))


PATH = f"{V1}/check-in-rules"
ITEM = f"{PATH}/{{id}}"
OPERATIONS = (
    Operation(
        "POST",
        PATH,
        "check_in_rules:create",
        create_rule,
        "Make a recurring check-in: one at a time, around a time of the agent's day, under every check-in rule",
        "check-ins",
        status=201,
        body=CheckInRuleCreate,
        response=CheckInRuleOut,
        errors=(404, 409),
    ),
    Operation(
        "GET",
        PATH,
        "check_in_rules:list",
        list_rules,
        "List recurring check-ins, oldest first",
        "check-ins",
        query=CheckInRuleQuery,
        response=CheckInRulePage,
    ),
    Operation(
        "GET", ITEM, "check_in_rules:get", get_rule, "Show a recurring check-in", "check-ins", response=CheckInRuleOut
    ),
    Operation(
        "DELETE",
        ITEM,
        "check_in_rules:cancel",
        cancel_rule,
        "End a recurring check-in and its waiting check-in",
        "check-ins",
        response=CheckInRuleOut,
    ),
)
