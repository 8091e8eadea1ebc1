"""Async requests in-process: the API, then the Dispatcher driven step by step with an injected clock."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from novaro_lite.app import create_app
from novaro_lite.config.settings import DeliverySettings, SchedulerSettings, Settings, WebhookSettings
from novaro_lite.delivery.dispatcher import Dispatcher
from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.errors import DatabaseUnavailableError
from novaro_lite.services import Services
from novaro_lite.storage.paging import Listing
from tests.delivery.steps import SECRET_TEXT, accept, fetch, request_body, run
from tests.fakes.engines import holders_of
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


async def test_request_is_accepted_committed_and_timed_like_a_person(setup, clock):
    accepted = await accept(setup)
    assert accepted["status"] == "scheduled" and accepted["reference"] == "order-42"
    assert clock.now <= accepted["scheduledFor"] <= clock.now + 86400
    assert (await fetch(setup, accepted["id"]))["status"] == "scheduled"
    await run(setup)
    assert setup["receiver"].deliveries == []  # not due yet


async def test_immediate_request_is_delivered_signed_and_then_purged(setup, settings, clock):
    clock.now = time.time()  # the Standard Webhooks library checks the signed timestamp against the wall clock
    accepted = await accept(setup, delay="immediate")
    await run(setup)
    (delivery,) = setup["receiver"].deliveries
    Verifier(setup["hook"]["secret"]).verify(delivery.body, delivery.headers)
    assert delivery.headers["webhook-id"] == accepted["id"] == delivery.json["id"]
    assert delivery.json["reference"] == "order-42" and delivery.json["agentId"] == setup["agent"]["id"]
    assert [m["role"] for m in delivery.json["messages"]] == ["assistant"] * len(delivery.json["messages"])
    assert delivery.headers["user-agent"].startswith("novaro-lite/")
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "delivered" and shown["attempts"] == 1 and shown["deliveredAt"] is not None
    stored = await setup["services"].storage.requests.get("acme", accepted["id"])
    assert stored.messages is None and stored.reply is None
    await setup["services"].storage.database.checkpoint()
    assert await holders_of(settings, SECRET_TEXT) == []
    assert await holders_of(settings, delivery.json["messages"][0]["content"]) == []


async def test_a_receiver_answering_nul_is_delivered_once_and_its_answer_logged(setup):
    """PostgreSQL's text holds no NUL: the attempt log could not be written, so the lease ran out and the request
    was POSTed again and again. The answer is kept with U+FFFD instead, on both engines."""
    setup["receiver"].body = b"ok\x00 thanks"
    accepted = await accept(setup, delay="immediate")
    await run(setup)
    assert len(setup["receiver"].deliveries) == 1
    assert (await fetch(setup, accepted["id"]))["status"] == "delivered"
    (attempt,) = (await fetch(setup, accepted["id"], "/attempts"))["data"]
    assert attempt["responseBody"] == "ok\ufffd thanks"


async def test_failed_deliveries_retry_on_schedule_with_the_same_body(setup, clock):
    setup["receiver"].script += [(503, {"Retry-After": "42"}), 500]
    accepted = await accept(setup, delay="immediate")
    await run(setup)
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "scheduled" and shown["attempts"] == 1 and shown["lastStatusCode"] == 503
    assert shown["scheduledFor"] == int(clock.now + 42)  # Retry-After asks for longer than the schedule's 5 s
    clock.now += 42
    await run(setup)
    assert (await fetch(setup, accepted["id"]))["scheduledFor"] == int(clock.now + 300)
    clock.now += 300
    await run(setup)
    first, second, third = setup["receiver"].deliveries
    assert first.body == second.body == third.body
    assert first.headers["webhook-id"] == third.headers["webhook-id"]
    attempts = (await fetch(setup, accepted["id"], "/attempts"))["data"]
    assert [a["statusCode"] for a in attempts] == [503, 500, 200]
    assert attempts[1]["responseBody"] == "answer 500"
    assert (await fetch(setup, accepted["id"]))["status"] == "delivered"


async def test_request_fails_after_the_last_retry(setup, clock):
    setup["receiver"].script += [500, 500, 500]
    accepted = await accept(setup, delay="immediate")
    for wait in (0, 5, 300):
        clock.now += wait
        await run(setup)
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "failed" and shown["attempts"] == 3
    assert "HTTP 500" in shown["lastError"] and "No retries left" in shown["lastError"]
    assert (await setup["services"].storage.requests.get("acme", accepted["id"])).messages is None


async def test_410_disables_the_webhook_and_pauses_the_request(setup):
    setup["receiver"].script.append(410)
    accepted = await accept(setup, delay="immediate")
    await run(setup)
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "paused" and shown["attempts"] == 1 and shown["lastStatusCode"] == 410
    hook = (await setup["client"].get(f"/api/v1/webhooks/{setup['hook']['id']}", headers=setup["auth"])).json()
    assert hook["enabled"] is False and "410" in hook["disabledReason"] and hook["pausedCount"] == 1
    refused = await setup["client"].post("/api/v1/message-requests", json=request_body(setup), headers=setup["auth"])
    assert_problem(refused, 409, "disabled")


async def test_deleted_agent_fails_the_request_without_retries(setup):
    accepted = await accept(setup, delay="immediate")
    await setup["client"].delete(f"/api/v1/agents/{setup['agent']['id']}", headers=setup["auth"])
    await run(setup)
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "failed" and "agent was deleted" in shown["lastError"]


async def test_cancel_before_delivery_then_409(setup):
    accepted = await accept(setup, delay={"seconds": 60})
    canceled = await setup["client"].delete(f"/api/v1/message-requests/{accepted['id']}", headers=setup["auth"])
    assert canceled.json()["status"] == "canceled"
    assert_problem(
        await setup["client"].delete(f"/api/v1/message-requests/{accepted['id']}", headers=setup["auth"]), 409
    )
    assert (await setup["services"].storage.requests.get("acme", accepted["id"])).messages is None


async def test_redeliver_sends_a_waiting_request_now(setup, clock):
    accepted = await accept(setup, delay={"seconds": 600})
    redelivered = await setup["client"].post(
        f"/api/v1/message-requests/{accepted['id']}/redeliver", headers=setup["auth"]
    )
    assert redelivered.status_code == 202 and redelivered.json()["scheduledFor"] == int(clock.now)
    await run(setup)
    assert (await fetch(setup, accepted["id"]))["status"] == "delivered"
    again = await setup["client"].post(f"/api/v1/message-requests/{accepted['id']}/redeliver", headers=setup["auth"])
    assert_problem(again, 409, "purged")


async def test_idempotency_key_replays_the_first_response_or_conflicts(setup):
    headers = setup["auth"] | {"Idempotency-Key": "k-1"}
    first = await setup["client"].post("/api/v1/message-requests", json=request_body(setup), headers=headers)
    second = await setup["client"].post("/api/v1/message-requests", json=request_body(setup), headers=headers)
    assert first.status_code == second.status_code == 202 and first.json() == second.json()
    listed = (await setup["client"].get("/api/v1/message-requests", headers=setup["auth"])).json()
    assert len(listed["data"]) == 1
    other = await setup["client"].post(
        "/api/v1/message-requests", json=request_body(setup, reference="other"), headers=headers
    )
    assert_problem(other, 409, "k-1")


async def test_list_filters_by_status_agent_and_reference(setup):
    a = await accept(setup, delay={"seconds": 60})
    b = await accept(setup, reference="other", delay="immediate")
    await run(setup)
    client, auth = setup["client"], setup["auth"]

    async def ids(**params: str) -> list[str]:
        return [
            r["id"] for r in (await client.get("/api/v1/message-requests", params=params, headers=auth)).json()["data"]
        ]

    assert await ids() == [a["id"], b["id"]]
    assert await ids(status="delivered") == [b["id"]]
    assert await ids(reference="order-42") == [a["id"]]
    assert await ids(agentId=setup["agent"]["id"], status="scheduled") == [a["id"]]
    assert_problem(await client.get("/api/v1/message-requests?status=lost", headers=auth), 422, "status")


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        ({"agentId": "agt_nope"}, 404, "agt_nope"),
        ({"webhookId": "whk_nope"}, 404, "whk_nope"),
        ({"delay": {"seconds": -1}}, 422, "delay"),
        ({"delay": "tomorrow"}, 422, "delay"),
        ({"reference": ""}, 422, "reference"),
        ({"contextIds": ["ctx_1"]}, 422, "ctx_1"),
    ],
)
async def test_bad_requests_are_refused_clearly(setup, change, status, detail):
    response = await setup["client"].post(
        "/api/v1/message-requests", json=request_body(setup, **change), headers=setup["auth"]
    )
    assert_problem(response, status, detail)


async def test_other_accounts_cannot_see_requests(setup):
    accepted = await accept(setup)
    _, other = await setup["services"].storage.tokens.create("o", "globex", None)
    theirs = {"Authorization": f"Bearer {other}"}
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/attempts"), ("POST", "/redeliver")):
        response = await setup["client"].request(
            method, f"/api/v1/message-requests/{accepted['id']}{suffix}", headers=theirs
        )
        assert_problem(response, 404)
    assert (await setup["client"].get("/api/v1/message-requests", headers=theirs)).json()["data"] == []


async def test_expired_lease_returns_a_request_to_the_queue(setup, settings, clock):
    accepted = await accept(setup, delay="immediate")
    storage = setup["services"].storage
    (claimed,) = await storage.queue.claim(
        now=clock.now, lease_seconds=300, limit=10, per_webhook=8, in_flight={}, working=(), owner="own_crashed"
    )
    assert claimed.id == accepted["id"] and (await fetch(setup, accepted["id"]))["status"] == "generating"
    await run(setup)  # the lease still holds: nobody else may take it
    assert setup["receiver"].deliveries == []
    clock.now += 301
    await run(setup)
    assert (await fetch(setup, accepted["id"]))["status"] == "delivered"


async def test_a_claim_whose_answer_the_database_lost_is_taken_back_at_the_next_dispatch(setup, monkeypatch):
    """PostgreSQL may commit a claim and go away before it answers (stopped at that moment): its rows are then
    leased to this process with no delivery of them under way. The next dispatch takes them up, at once
    rather than when the lease (300 s) runs out."""
    accepted = await accept(setup, delay="immediate")
    queue = setup["services"].storage.queue
    claim = queue.claim

    async def answer_lost(**kwargs: Any) -> list[MessageRequest]:
        await claim(**kwargs)
        raise DatabaseUnavailableError("The database cannot be reached (ConnectionDoesNotExistError).")

    monkeypatch.setattr(queue, "claim", answer_lost)
    with pytest.raises(DatabaseUnavailableError):
        await setup["dispatcher"].run_due()
    assert (await fetch(setup, accepted["id"]))["status"] == "generating"
    monkeypatch.setattr(queue, "claim", claim)
    await run(setup)  # the clock has not moved: the lease still holds
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "delivered" and shown["attempts"] == 1
    assert len(setup["receiver"].deliveries) == 1


async def test_stop_hands_unfinished_deliveries_back(setup, clock, settings):
    import dataclasses

    slow = dataclasses.replace(settings.delivery, shutdown_grace_seconds=0)
    services = dataclasses.replace(setup["services"], settings=dataclasses.replace(settings, delivery=slow))
    dispatcher = Dispatcher(services)
    accepted = await accept(setup, delay="immediate")
    await dispatcher.run_due()
    await dispatcher.stop()
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "scheduled" and shown["attempts"] == 0
    await run(setup)
    assert (await fetch(setup, accepted["id"]))["status"] == "delivered"


async def test_delay_override_can_be_forbidden(tmp_path, database_url, receiver):
    settings = Settings(
        data_dir=tmp_path / "d",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True),
        delivery=DeliverySettings(allow_delay_override=False),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        _, token = await app.state.services.storage.tokens.create("t", "acme", None)
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            agent = (await client.post("/api/v1/agents", json={"name": "A"}, headers=auth)).json()
            hook = (await client.post("/api/v1/webhooks", json={"url": receiver[0]}, headers=auth)).json()
            body = {"agentId": agent["id"], "webhookId": hook["id"], "reference": "r", "delay": "immediate",
                    "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
            response = await client.post("/api/v1/message-requests", json=body, headers=auth)
    assert_problem(response, 422, "allow_delay_override")


async def test_running_scheduler_delivers_on_its_own(tmp_path, database_url, receiver):
    settings = Settings(
        data_dir=tmp_path / "d", database_url=database_url, webhooks=WebhookSettings(allow_private_networks=True)
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        storage = app.state.services.storage
        _, token = await storage.tokens.create("t", "acme", None)
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            agent = (await client.post("/api/v1/agents", json={"name": "A"}, headers=auth)).json()
            hook = (await client.post("/api/v1/webhooks", json={"url": receiver[0]}, headers=auth)).json()
            body = {"agentId": agent["id"], "webhookId": hook["id"], "reference": "r", "delay": {"seconds": 1},
                    "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
            accepted = (await client.post("/api/v1/message-requests", json=body, headers=auth)).json()
            deadline = time.monotonic() + 5
            while not receiver[1].deliveries and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
    assert [d.headers["webhook-id"] for d in receiver[1].deliveries] == [accepted["id"]]


async def test_provider_failure_while_generating_is_retried_on_the_schedule(tmp_path, database_url, receiver, clock):
    from novaro_lite.config.settings import ProviderSettings

    down = ProviderSettings(base_url="http://127.0.0.1:9/v1", model="m", max_retries=0)
    settings = Settings(
        data_dir=tmp_path / "d",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True),
        delivery=DeliverySettings(retry_schedule=(5,), retry_jitter=0),
        providers={"down": down},
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        from novaro_lite.domain.agents import AgentFields
        from novaro_lite.domain.messages import ChatMessage

        agent = await services.storage.agents.create("acme", AgentFields(name="A", model="down"))
        hook = await services.storage.webhooks.create("acme", receiver[0], "", True)
        await services.storage.requests.create(
            "acme", agent_id=agent.id, webhook_id=hook.id, reference="r", messages=[ChatMessage("user", "hi")],
            context_ids=(), plan=Plan(clock.now, clock.now),
        )  # fmt: skip
        dispatcher = Dispatcher(services)
        await dispatcher.run_due()
        await dispatcher.wait_idle()
        (request,) = (await services.storage.requests.list("acme", Listing(10))).items
        # The model's failures have their own budget: the webhook's attempts are untouched.
        assert request.status == "scheduled" and request.attempts == 0 and request.generation_failures == 1
        assert request.last_error is not None and "Generating the reply failed" in request.last_error
        assert "'down' could not be reached" in request.last_error
        clock.now += 5
        await dispatcher.run_due()
        await dispatcher.wait_idle()
        (request,) = (await services.storage.requests.list("acme", Listing(10))).items
        assert request.status == "failed" and request.generation_failures == 2 and receiver[1].deliveries == []


async def test_housekeeping_deletes_metadata_after_the_retention_period(setup, clock, settings):
    from novaro_lite.delivery.scheduler import housekeeping

    accepted = await accept(setup, delay="immediate")
    await run(setup)
    await housekeeping(setup["services"])
    assert (await fetch(setup, accepted["id"]))["status"] == "delivered"  # still within retention
    clock.now += settings.delivery.retention_days * 86400 + 1
    await housekeeping(setup["services"])
    response = await setup["client"].get(f"/api/v1/message-requests/{accepted['id']}", headers=setup["auth"])
    assert_problem(response, 404)
    rows = await setup["services"].storage.database.all("SELECT count(*) FROM delivery_attempts", ())
    assert rows[0][0] == 0


async def test_a_receiver_slower_than_the_timeout_is_a_retry(tmp_path, database_url, receiver, clock):
    receiver[1].delay = 2.0
    settings = Settings(
        data_dir=tmp_path / "d",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True, timeout_seconds=0.3),
        delivery=DeliverySettings(retry_schedule=(5,), retry_jitter=0),
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        from novaro_lite.domain.agents import AgentFields
        from novaro_lite.domain.messages import ChatMessage

        agent = await services.storage.agents.create("acme", AgentFields(name="A"))
        hook = await services.storage.webhooks.create("acme", receiver[0], "", True)
        await services.storage.requests.create(
            "acme", agent_id=agent.id, webhook_id=hook.id, reference="r", messages=[ChatMessage("user", "hi")],
            context_ids=(), plan=Plan(clock.now, clock.now),
        )  # fmt: skip
        dispatcher = Dispatcher(services)
        began = time.monotonic()
        await dispatcher.run_due()
        await dispatcher.wait_idle()
        assert time.monotonic() - began < 1.5
        (request,) = (await services.storage.requests.list("acme", Listing(1))).items
        assert request.status == "scheduled" and request.last_error == "The receiver did not answer in time."


async def test_deleting_a_webhook_fails_its_waiting_requests_and_erases_them(setup):
    accepted = await accept(setup, delay={"seconds": 600})
    assert (
        await setup["client"].delete(f"/api/v1/webhooks/{setup['hook']['id']}", headers=setup["auth"])
    ).status_code == 204
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "failed" and "webhook was deleted" in shown["lastError"]
    assert (await setup["services"].storage.requests.get("acme", accepted["id"])).messages is None


async def test_a_busy_webhook_does_not_starve_the_others(setup, clock):
    storage = setup["services"].storage
    other = await storage.webhooks.create("acme", setup["hook"]["url"], "", True)
    for _ in range(30):
        await accept(setup, delay="immediate")
    lonely = await accept(setup, webhookId=other.id, delay="immediate")
    first = await storage.queue.claim(now=clock.now, lease_seconds=300, limit=2, per_webhook=8, in_flight={},
                                      working=(), owner="own_a")  # fmt: skip
    assert {r.webhook_id for r in first} == {setup["hook"]["id"]}
    busy = {setup["hook"]["id"]: 8}
    second = await storage.queue.claim(now=clock.now, lease_seconds=300, limit=2, per_webhook=8, in_flight=busy,
                                       working=(), owner="own_a")  # fmt: skip
    assert [r.id for r in second] == [lonely["id"]]


async def test_a_host_name_that_stops_resolving_is_retried_not_failed(setup, clock, monkeypatch):
    """A DNS outage at delivery time is a receiver that cannot be reached, retried on the schedule: it used to
    fail the request on its first attempt and erase its content (the check made when the webhook is created
    refuses such a name, and delivery re-checks the target each time)."""
    hook_url = setup["hook"]["url"]
    resolvable = True
    resolve = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.test":
            if not resolvable:
                raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
            host = "127.0.0.1"
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    named = hook_url.replace("127.0.0.1", "hooks.test")
    patched = await setup["client"].patch(f"/api/v1/webhooks/{setup['hook']['id']}", json={"url": named},
                                          headers=setup["auth"])  # fmt: skip
    assert patched.status_code == 200, patched.text
    accepted = await accept(setup, delay="immediate")
    resolvable = False
    await run(setup)
    shown = await fetch(setup, accepted["id"])
    assert shown["status"] == "scheduled" and shown["attempts"] == 1, shown
    assert "did not resolve" in shown["lastError"] and "hooks.test" not in shown["lastError"]
    resolvable = True
    clock.now += 5
    await run(setup)
    assert (await fetch(setup, accepted["id"]))["status"] == "delivered"
    assert len(setup["receiver"].deliveries) == 1
