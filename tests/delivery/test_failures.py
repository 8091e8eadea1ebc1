"""The delivery engine under failure (issue 9): a dripping model, disabled webhooks, bad URLs, shutdown.

The model and the receiver are an httpx MockTransport here (the same transport serves both clients), except
where a real dripping upstream is the point.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from novaro_lite.app import create_app
from novaro_lite.config.settings import DeliverySettings, ProviderSettings, SchedulerSettings, Settings, WebhookSettings
from novaro_lite.delivery.dispatcher import Dispatcher
from novaro_lite.delivery.scheduler import housekeeping
from novaro_lite.domain.agents import AgentFields
from novaro_lite.domain.arrival import Plan
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.webhooks import secret_digest
from novaro_lite.services import Services
from novaro_lite.storage.sqlite.database import SqliteDatabase
from tests.fakes.clock import Clock
from tests.fakes.hostile import hostile_app
from tests.fakes.serve import serve_in_thread
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
HOOK_URL = "http://127.0.0.1:9/hook"
COMPLETION = {"choices": [{"message": {"content": "Hello there"}}], "usage": {"prompt_tokens": 1}}


@dataclasses.dataclass
class Upstreams:
    """The scripted model (host llm.test) and receiver (anything else), and what each was sent."""

    llm_answers: list[httpx.Response] = dataclasses.field(default_factory=list)
    hook_answers: list[httpx.Response] = dataclasses.field(default_factory=list)
    llm_calls: int = 0
    deliveries: list[httpx.Request] = dataclasses.field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "llm.test":
            self.llm_calls += 1
            return self.llm_answers.pop(0) if self.llm_answers else httpx.Response(200, json=COMPLETION)
        self.deliveries.append(request)
        return self.hook_answers.pop(0) if self.hook_answers else httpx.Response(200, text="ok")

    @property
    def bodies(self) -> list[Any]:
        import json

        return [json.loads(request.content) for request in self.deliveries]


@dataclasses.dataclass
class Env:
    services: Services
    client: httpx.AsyncClient
    auth: dict[str, str]
    clock: Clock
    dispatcher: Dispatcher
    upstreams: Upstreams
    agent_id: str
    hook_id: str

    async def accept(self, due: float | None = None, **changes: Any) -> str:
        due = self.clock.now if due is None else due
        fields: dict[str, Any] = {
            "agent_id": self.agent_id, "webhook_id": self.hook_id, "reference": "r",
            "messages": [ChatMessage("user", "hi")], "context_ids": (),
            "plan": Plan(due, due), "accepted": lambda request: request.id,
        }  # fmt: skip
        return await self.services.storage.requests.create("acme", **fields | changes)

    async def get(self, request_id: str) -> Any:
        return await self.services.storage.requests.get("acme", request_id)

    async def run(self) -> None:
        await self.dispatcher.run_due()
        await self.dispatcher.wait_idle()

    async def patch_hook(self, **changes: Any) -> Any:
        response = await self.client.patch(f"/api/v1/webhooks/{self.hook_id}", json=changes, headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.asynccontextmanager
async def environment(
    tmp_path: Path,
    *,
    delivery: DeliverySettings | None = None,
    provider: ProviderSettings | None = None,
    hook_url: str = HOOK_URL,
    real_network: bool = False,
) -> AsyncIterator[Env]:
    upstreams, clock = Upstreams(), Clock()
    settings = Settings(
        data_dir=tmp_path / "d",
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True),
        delivery=delivery or DeliverySettings(retry_schedule=(5, 300), retry_jitter=0),
        providers={"up": provider or ProviderSettings(base_url="http://llm.test/v1", model="m", max_retries=0)},
    )
    transport = None if real_network else httpx.MockTransport(upstreams.handle)
    app = create_app(settings, transport=transport, clock=clock)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        _, token = await services.storage.tokens.create("t", "acme", None)
        agent = await services.storage.agents.create("acme", AgentFields(name="Ada", model="up"))
        hook = await services.storage.webhooks.create("acme", hook_url, "", True)
        asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=asgi, base_url="http://t") as client:
            auth = {"Authorization": f"Bearer {token}"}
            yield Env(services, client, auth, clock, Dispatcher(services), upstreams, agent.id, hook.id)


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    with serve_in_thread(hostile_app()) as url:
        yield url


def dripping(hostile: str) -> ProviderSettings:
    return ProviderSettings(base_url=f"{hostile}/drip/v1", model="m", timeout_seconds=1, max_retries=1)


async def test_a_dripping_model_answers_504_within_its_timeout_in_realtime(tmp_path, hostile):
    async with environment(tmp_path, provider=dripping(hostile), real_network=True) as env:
        began = time.monotonic()
        with anyio.fail_after(10):
            response = await env.client.post(
                "/api/v1/messages",
                json={"agentId": env.agent_id, "messages": [{"role": "user", "content": "hi"}]},
                headers=env.auth,
            )
        assert_problem(response, 504, "within 1 s")
        assert time.monotonic() - began < 2.5  # one deadline for the whole call, retries included


async def test_a_dripping_model_is_retried_then_failed_never_stuck(tmp_path, hostile):
    delivery = DeliverySettings(retry_schedule=(5,), retry_jitter=0)
    async with environment(tmp_path, delivery=delivery, provider=dripping(hostile), real_network=True) as env:
        request_id = await env.accept()
        began = time.monotonic()
        with anyio.fail_after(10):
            await env.run()
        assert time.monotonic() - began < 2.5
        waiting = await env.get(request_id)
        assert waiting.status == "scheduled" and waiting.last_error is not None and "within 1 s" in waiting.last_error
        # The model's failure used its own budget, not one of the webhook's attempts.
        assert waiting.generation_failures == 1 and waiting.attempts == 0
        env.clock.now += 5
        with anyio.fail_after(10):
            await env.run()
        failed = await env.get(request_id)
        assert failed.status == "failed" and "No retries left" in failed.last_error and failed.messages is None


async def test_a_models_retry_after_is_honoured_in_async_delivery(tmp_path):
    async with environment(tmp_path) as env:
        env.upstreams.llm_answers.append(httpx.Response(429, headers={"Retry-After": "120"}))
        request_id = await env.accept()
        await env.run()
        waiting = await env.get(request_id)
        assert waiting.status == "scheduled" and waiting.scheduled_for == int(env.clock.now + 120)


async def test_a_receivers_retry_after_of_0_does_not_shorten_the_schedule(tmp_path):
    async with environment(tmp_path) as env:
        env.upstreams.hook_answers.append(httpx.Response(503, headers={"Retry-After": "0"}))
        request_id = await env.accept()
        await env.run()
        assert (await env.get(request_id)).scheduled_for == int(env.clock.now + 5)  # the schedule's first wait


async def test_a_disabled_webhook_pauses_its_requests_with_content_until_enabled_oldest_first(tmp_path):
    delivery = DeliverySettings(retry_schedule=(5,), retry_jitter=0, max_in_flight_per_webhook=1)
    async with environment(tmp_path, delivery=delivery) as env:
        newer = await env.accept(due=env.clock.now - 10, reference="newer")
        older = await env.accept(due=env.clock.now - 100, reference="older")
        assert (await env.patch_hook(enabled=False))["pausedCount"] == 2
        await env.run()
        assert env.upstreams.llm_calls == 0 and env.upstreams.deliveries == []
        for request_id in (newer, older):
            paused = await env.get(request_id)
            assert paused.status == "paused" and paused.messages == (ChatMessage("user", "hi"),)
        redeliver = await env.client.post(f"/api/v1/message-requests/{older}/redeliver", headers=env.auth)
        assert_problem(redeliver, 409, "enable the webhook")
        assert (await env.patch_hook(enabled=True))["pausedCount"] == 0
        await env.run()
        await env.run()
        assert [body["reference"] for body in env.upstreams.bodies] == ["older", "newer"]
        assert (await env.get(newer)).status == (await env.get(older)).status == "delivered"


async def test_the_webhook_is_checked_before_generating(tmp_path):
    async with environment(tmp_path) as env:
        request_id = await env.accept()
        storage = env.services.storage
        (claimed,) = await storage.queue.claim(now=env.clock.now, lease_seconds=300, limit=1, per_webhook=8,
                                               in_flight={}, working=(), owner="own_crashed")  # fmt: skip
        await env.patch_hook(enabled=False)  # the claimed request is not paused yet: it is being worked on
        env.clock.now += 301  # its lease runs out; this dispatcher takes it over
        await env.run()
        assert env.upstreams.llm_calls == 0  # no reply paid for a webhook that cannot take it
        paused = await env.get(claimed.id)
        assert paused.status == "paused" and paused.attempts == 0 and paused.messages is not None
        await env.patch_hook(enabled=True)
        await env.run()
        assert (await env.get(request_id)).status == "delivered"


async def test_requests_paused_longer_than_paused_max_days_fail_and_are_erased(tmp_path):
    async with environment(tmp_path) as env:
        request_id = await env.accept()
        canceled = await env.accept()
        await env.patch_hook(enabled=False)
        response = await env.client.delete(f"/api/v1/message-requests/{canceled}", headers=env.auth)
        assert response.status_code == 200 and response.json()["status"] == "canceled"  # a paused one may be
        env.clock.now += env.services.settings.delivery.paused_max_days * 86400 - 60
        await housekeeping(env.services)
        assert (await env.get(request_id)).status == "paused"
        env.clock.now += 120
        await housekeeping(env.services)
        failed = await env.get(request_id)
        assert failed.status == "failed" and failed.messages is None and "paused_max_days" in failed.last_error


async def test_idempotent_replay_comes_first(tmp_path):
    async with environment(tmp_path) as env:
        body = {"agentId": env.agent_id, "webhookId": env.hook_id, "reference": "r",
                "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
        headers = env.auth | {"Idempotency-Key": "k-1"}
        first = await env.client.post("/api/v1/message-requests", json=body, headers=headers)
        assert first.status_code == 202
        await env.patch_hook(enabled=False)
        again = await env.client.post("/api/v1/message-requests", json=body, headers=headers)
        assert again.status_code == 202 and again.json() == first.json()
        await env.client.delete(f"/api/v1/agents/{env.agent_id}", headers=env.auth)
        third = await env.client.post("/api/v1/message-requests", json=body, headers=headers)
        assert third.status_code == 202 and third.json() == first.json()
        other = await env.client.post("/api/v1/message-requests", json=body | {"reference": "x"}, headers=headers)
        assert_problem(other, 409, "k-1")


async def test_a_webhook_url_with_credentials_is_a_recorded_failure_not_an_unexpected_error(tmp_path, caplog):
    async with environment(tmp_path, hook_url="http://user:pw@127.0.0.1:9/hook") as env:
        request_id = await env.accept()
        with caplog.at_level(logging.ERROR):
            await env.run()
            tested = await env.client.post(f"/api/v1/webhooks/{env.hook_id}/test", headers=env.auth)
        assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
        failed = await env.get(request_id)
        assert failed.status == "failed" and "user name or password" in failed.last_error
        assert "pw" not in failed.last_error
        assert tested.status_code == 200 and tested.json()["delivered"] is False
        assert "user name or password" in tested.json()["error"]


async def test_after_a_rotation_the_body_carries_the_new_secrets_digest(tmp_path):
    async with environment(tmp_path) as env:
        env.upstreams.hook_answers.append(httpx.Response(500))
        request_id = await env.accept()
        await env.run()
        rotated = (await env.client.post(f"/api/v1/webhooks/{env.hook_id}/rotate-secret", headers=env.auth)).json()
        env.clock.now += 5
        await env.run()
        first, second = env.upstreams.bodies
        assert (await env.get(request_id)).status == "delivered"
        assert first["messages"] == second["messages"] and first["id"] == second["id"]
        assert second["secret"] == secret_digest(rotated["secret"]) != first["secret"]


async def test_a_claim_cancelled_during_its_commit_is_handed_back(tmp_path):
    async with environment(tmp_path) as env:
        request_id = await env.accept()
        database = env.services.storage.database
        assert isinstance(database, SqliteDatabase)
        writer = database._writer
        loop = asyncio.get_running_loop()
        committing, cancelled = asyncio.Event(), threading.Event()
        claimed = False

        def trace(sql: str) -> None:  # on the writer's thread, as each statement starts
            nonlocal claimed
            if sql.lstrip().startswith("UPDATE message_requests SET status = CASE"):  # the claim
                claimed = True
            elif sql == "COMMIT" and claimed:
                claimed = False
                loop.call_soon_threadsafe(committing.set)
                cancelled.wait(timeout=60)  # the COMMIT goes on once the caller has been cancelled

        await writer.set_trace_callback(trace)
        try:
            running = asyncio.create_task(env.dispatcher.run_due())
            await asyncio.wait_for(committing.wait(), 60)  # the claim reached its COMMIT
            running.cancel()  # lands while the claim's COMMIT runs in aiosqlite's thread
            cancelled.set()
            with pytest.raises(asyncio.CancelledError):
                await running
        finally:
            cancelled.set()
            await writer.set_trace_callback(None)  # type: ignore[arg-type]
        await env.dispatcher.stop()
        returned = await env.get(request_id)
        assert returned.status == "scheduled"  # not leased to this process until the lease runs out
        await Dispatcher(env.services).run_due()
        await asyncio.sleep(0.1)
        assert (await env.get(request_id)).status == "delivered"


async def test_a_finished_delivery_forgets_only_its_own_task(tmp_path):
    async with environment(tmp_path) as env:
        await env.accept()
        queue = env.services.storage.queue
        (request,) = await queue.claim(now=env.clock.now, lease_seconds=300, limit=1, per_webhook=8, in_flight={},
                                       working=(), owner="o")  # fmt: skip
        gates = [asyncio.Event(), asyncio.Event()]
        waiting = iter(gates)

        async def deliver(_: Any) -> None:
            await next(waiting).wait()

        dispatcher = env.dispatcher
        dispatcher._deliver = deliver  # type: ignore[method-assign,assignment]
        dispatcher._start(request)
        dispatcher._start(request)  # the same request again (its lease ran out and it was taken over)
        gates[0].set()
        await asyncio.sleep(0.01)
        assert dispatcher.in_flight == 1  # the second delivery is still tracked
        gates[1].set()
        await dispatcher.wait_idle()
        assert dispatcher.in_flight == 0


async def test_a_new_message_does_not_wait_out_the_retry_of_a_reply_that_failed_to_be_written(tmp_path):
    """The model failed the first message's reply, so it waits to be tried again (5 s here, hours later on in the
    default schedule); the user writes again. The new request took the failed one's plan: due only when the
    retry was, its scheduledFor already past."""
    async with environment(tmp_path) as env:
        env.upstreams.llm_answers.append(httpx.Response(503))
        body = {"agentId": env.agent_id, "webhookId": env.hook_id, "conversationId": "c1", "delay": "immediate",
                "reference": "r", "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
        first = await env.client.post("/api/v1/message-requests", json=body, headers=env.auth)
        assert first.status_code == 202, first.text
        await env.run()
        assert (await env.get(first.json()["id"])).scheduled_for == int(env.clock.now + 5)  # to be tried again
        env.clock.now += 1
        second = (await env.client.post("/api/v1/message-requests", json=body, headers=env.auth)).json()
        assert (await env.get(first.json()["id"])).status == "superseded"
        assert second["scheduledFor"] == int(env.clock.now)
        await env.run()
        assert (await env.get(second["id"])).status == "delivered" and env.upstreams.llm_calls == 2
