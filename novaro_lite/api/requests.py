"""Message requests endpoints: accept an async request (202, committed first), list, show, cancel, resend."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.api.contexts import require_contexts
from novaro_lite.api.groups import speaking
from novaro_lite.api.schemas.requests import (
    AttemptList,
    AttemptOut,
    MessageRequestCreate,
    MessageRequestOut,
    MessageRequestPage,
    MessageRequestQuery,
)
from novaro_lite.api.web.deps import caller, invalid, json_response, read_body, read_query, services
from novaro_lite.api.web.operation import V1, Operation
from novaro_lite.delivery import groups
from novaro_lite.delivery.conversations import first_allowed, model_clock
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.arrival import ModelClock, Plan
from novaro_lite.domain.chance import UNSEEDED
from novaro_lite.domain.conversations import plan_after_busy, plan_message, superseding_plan
from novaro_lite.domain.groups import turn_rng
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.domain.timing import is_awake
from novaro_lite.errors import ConflictError, NotFoundError
from novaro_lite.services import Services
from novaro_lite.storage.requests import GroupStart, Replan

IDEMPOTENCY_KEY_MAX = 200


async def _drawn(svc: Services, body: MessageRequestCreate, agent: Agent, rng: random.Random) -> Plan:
    """The reply's plan by the timing model."""
    online_until = None
    if body.conversation_id is not None:
        online_until = await svc.storage.conversations.online_until(agent.id, body.conversation_id)
    return plan_message(agent, svc.clock(), online_until, rng, time_scale=svc.settings.delivery.time_scale)


async def _first_turn(
    svc: Services, body: MessageRequestCreate, account: str, rng: random.Random
) -> tuple[Agent, Plan, GroupStart]:
    """Who in the group answers the message, when, and the exchange it starts (docs/design.md, Groups)."""
    assert body.group_id is not None
    group, agents, requested = await speaking(svc, account, body.group_id, body.agent_id)
    answering = groups.answering(body.messages[-1].to_domain())
    turn = await groups.plan_next(svc, group, agents, body.conversation_id, answering, 1, svc.clock(), rng, requested)
    assert turn is not None, "turn 1 always has a speaker"
    return agents[turn.agent_id], turn.plan, GroupStart(group.id, group.max_agent_turns - 1, body.seed)


async def _speaker(
    svc: Services, body: MessageRequestCreate, account: str, rng: random.Random
) -> tuple[Agent, Plan | None, GroupStart | None]:
    """Who answers, the plan (None when `delay` overrides the timing model), and the exchange a group's message
    starts."""
    if body.delay is not None and not svc.settings.delivery.allow_delay_override:
        raise invalid(
            ["body", "delay"],
            "this server does not allow overriding the reply delay ([delivery] allow_delay_override = false)",
        )
    if body.group_id is not None:
        agent, plan, start = await _first_turn(svc, body, account, rng)
        return agent, plan if body.delay is None else None, start
    assert body.agent_id is not None
    agent = await svc.storage.agents.get(account, body.agent_id)
    return agent, await _drawn(svc, body, agent, rng) if body.delay is None else None, None


def _fixed(svc: Services, body: MessageRequestCreate) -> Plan:
    """`delay` overrides the timing model: the reply is written and sent at once after it."""
    seconds = 0 if body.delay is None or body.delay == "immediate" else body.delay.seconds
    due = svc.clock() + seconds / svc.settings.delivery.time_scale
    return Plan(due, due)


def _replan(svc: Services, agent: Agent, own: Plan, is_humanlike: bool, rng: random.Random) -> Replan:
    """How a request's plan follows the others of its conversation (docs/design.md, Conversations)."""

    def replan(unread: Sequence[Plan], busy_until: float | None) -> Plan:
        plan = own
        if is_humanlike:  # an earlier request's fixed `delay` may fall in the agent's sleep: no time to answer
            clock = ModelClock(svc.clock(), svc.settings.delivery.time_scale)
            unread = [earlier for earlier in unread if is_awake(agent, clock.model(earlier.arrive_at))]
        if busy_until is not None:  # the agent is answering this conversation: read this after that reply
            scale = svc.settings.delivery.time_scale
            if is_humanlike:
                plan = plan_after_busy(agent, plan, busy_until, rng, time_scale=scale)
            elif plan.read_at < busy_until:
                plan = Plan(busy_until, busy_until)
        return superseding_plan(plan, unread)

    return replan


async def create_request(request: Request) -> Response:
    body = await read_body(request, MessageRequestCreate)
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
        raise invalid(["header", "Idempotency-Key"], f"must be 1 to {IDEMPOTENCY_KEY_MAX} characters")
    svc, account = services(request), caller(request).account
    rng = turn_rng(body.seed, 1, UNSEEDED)
    body_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest() if key else None
    if key is not None and body_hash is not None:
        # A retry gets the first answer whatever happened since (agent deleted, webhook disabled).
        replayed = await svc.storage.requests.replay(account, key, body_hash)
        if replayed is not None:
            return Response(replayed, status_code=202, media_type="application/json")
    await require_contexts(request, body.context_ids)
    agent, drawn, group = await _speaker(svc, body, account, rng)
    webhook = await svc.storage.webhooks.get(account, body.webhook_id)
    if not webhook.enabled:
        raise ConflictError(f"The webhook {webhook.id!r} is disabled ({webhook.disabled_reason or 'by its owner'}).")
    plan = _fixed(svc, body) if drawn is None else drawn
    stored: list[MessageRequest] = []

    def accepted(new: MessageRequest) -> str:
        stored.append(new)
        return MessageRequestOut.of(new).model_dump_json(by_alias=True)

    response = await svc.storage.requests.create(
        account,
        agent_id=agent.id,
        webhook_id=body.webhook_id,
        reference=body.reference,
        messages=[message.to_domain() for message in body.messages],
        context_ids=body.context_ids,
        plan=plan,
        idempotency_key=key,
        body_hash=body_hash,
        accepted=accepted,
        conversation_id=body.conversation_id,
        supersede=body.supersede,
        is_humanlike=drawn is not None,
        replan=_replan(svc, agent, plan, drawn is not None, rng),
        on_superseded=lambda count: svc.metrics.delivery("superseded", count=count),
        on_check_ins_ended=lambda count: svc.metrics.check_in("canceled", "user_wrote", count),
        group=group,
    )
    if stored:  # not an idempotent replay
        # A replanned read is later than this, or an unread request's that was woken for already.
        svc.wake(plan.read_at)
        svc.metrics.accepted()
    return Response(response, status_code=202, media_type="application/json")


async def list_requests(request: Request) -> Response:
    query = read_query(request, MessageRequestQuery)
    found = await services(request).storage.requests.list(
        caller(request).account,
        query.listing(),
        status=query.status,
        agent_id=query.agent_id,
        reference=query.reference,
        conversation_id=query.conversation_id,
        group_id=query.group_id,
    )
    return json_response(
        MessageRequestPage(
            data=[MessageRequestOut.of(r) for r in found.items], next_cursor=found.next_cursor, total=found.total
        )
    )


async def get_request(request: Request) -> Response:
    found = await services(request).storage.requests.get(caller(request).account, request.path_params["id"])
    return json_response(MessageRequestOut.of(found))


async def cancel_request(request: Request) -> Response:
    svc = services(request)
    canceled = await svc.storage.requests.cancel(caller(request).account, request.path_params["id"])
    svc.metrics.delivery("canceled")
    return json_response(MessageRequestOut.of(canceled))


async def redeliver_request(request: Request) -> Response:
    svc, account, request_id = services(request), caller(request).account, request.path_params["id"]
    now = svc.clock()
    waiting = await svc.storage.requests.get(account, request_id)
    if waiting.is_humanlike and waiting.status == "scheduled":
        await _refuse_in_sleep(svc, waiting, now)
    found = await svc.storage.requests.redeliver(account, request_id, now)
    svc.wake(now)
    return json_response(MessageRequestOut.of(found), 202)


async def _refuse_in_sleep(svc: Services, waiting: MessageRequest, now: float) -> None:
    """A reply timed like a person never arrives in its agent's sleep (nor a check-in in the user's quiet
    hours): sent now, it would only wait again until then, while the answer said "now"."""
    try:
        agent = await svc.storage.agents.get(waiting.account, waiting.agent_id)
    except NotFoundError:
        return  # its delivery says what became of it
    clock = model_clock(svc, waiting)
    if first_allowed(waiting, agent, now, UNSEEDED, clock) <= now:
        return
    hours = f"its active hours are {agent.active_hours.start}–{agent.active_hours.end} ({agent.timezone})"
    why = (
        f"{agent.name} is asleep now ({hours})"
        if not is_awake(agent, clock.model(now))
        else "it is the user's quiet hours now"
    )
    raise ConflictError(
        f"The message request {waiting.id!r} is timed like a person and {why}: it never arrives then, so it"
        " cannot be sent sooner. It goes out as soon as it may; cancel it to drop it."
    )


async def list_attempts(request: Request) -> Response:
    attempts = await services(request).storage.requests.attempts(caller(request).account, request.path_params["id"])
    return json_response(AttemptList(data=[AttemptOut.of(attempt) for attempt in attempts]))


PATH = f"{V1}/message-requests"
ITEM = f"{PATH}/{{id}}"
OPERATIONS = (
    Operation(
        "POST",
        PATH,
        "requests:create",
        create_request,
        "Ask for a reply at a webhook, timed like a person (202 once stored)",
        "message-requests",
        status=202,
        body=MessageRequestCreate,
        response=MessageRequestOut,
        errors=(404, 409),
        headers=(
            (
                "Idempotency-Key",
                "Retrying with the same key and body within 24 h returns the first"
                " response; with a different body, 409.",
            ),
        ),
    ),
    Operation(
        "GET",
        PATH,
        "requests:list",
        list_requests,
        "List message requests, oldest or newest first, searched by reference",
        "message-requests",
        query=MessageRequestQuery,
        response=MessageRequestPage,
    ),
    Operation(
        "GET",
        ITEM,
        "requests:get",
        get_request,
        "Show a message request's status",
        "message-requests",
        response=MessageRequestOut,
    ),
    Operation(
        "DELETE",
        ITEM,
        "requests:cancel",
        cancel_request,
        "Cancel a request before delivery",
        "message-requests",
        response=MessageRequestOut,
        errors=(409,),
    ),
    Operation(
        "POST",
        f"{ITEM}/redeliver",
        "requests:redeliver",
        redeliver_request,
        "Send a scheduled request now",
        "message-requests",
        status=202,
        response=MessageRequestOut,
        errors=(409,),
    ),
    Operation(
        "GET",
        f"{ITEM}/attempts",
        "requests:attempts",
        list_attempts,
        "List a request's delivery attempts",
        "message-requests",
        response=AttemptList,
    ),
)
