"""Async delivery through the real server process: a scripted receiver on loopback records every POST.

Every test starts `novaro-lite serve` with its own TOML and data directory; waits poll with deadlines.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.e2e.server import RunningServer, running_server
from tests.fakes.receiver import Answer, Receipt, Receiver
from tests.fakes.serve import serve_in_thread

MESSAGES = [{"role": "user", "content": "Are you open tomorrow?"}]


@pytest.fixture(autouse=True)
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs a real server on each engine (the subprocesses inherit the URL)."""
    if database_url:
        monkeypatch.setenv("NOVARO_LITE_DATABASE_URL", database_url)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rx = Receiver()
    with serve_in_thread(rx.app()) as url:
        yield rx, f"{url}/hook"


def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` every 50 ms until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if result := check():
            return result
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def server_args(tmp_path: Path, *, webhook_timeout: float = 2, **delivery: Any) -> list[str]:
    """Write a TOML config (loopback receivers allowed, no jitter, plus `delivery` keys); return serve args."""
    delivery = {"retry_jitter": 0, **delivery}
    lines = ['log_level = "info"', "", "[webhooks]", "allow_private_networks = true"]
    lines += [f"timeout_seconds = {webhook_timeout}", ""]
    lines += ["[delivery]", *(f"{key} = {json.dumps(value)}" for key, value in delivery.items())]
    config = tmp_path / "novaro.toml"
    config.write_text("\n".join(lines) + "\n")
    return ["--config", str(config), "--data-dir", str(tmp_path / "data")]


@dataclasses.dataclass
class Api:
    client: httpx.Client

    def setup(self, hook_url: str) -> tuple[str, dict[str, Any]]:
        """Create an agent and a webhook to `hook_url`; return the agent id and the webhook (with secret)."""
        agent = self.client.post(
            "/api/v1/agents",
            json={"name": "Lena", "timezone": "Europe/Berlin", "activeHours": {"start": "00:00", "end": "00:00"}},
        )
        assert agent.status_code == 201, agent.text
        webhook = self.client.post("/api/v1/webhooks", json={"url": hook_url, "description": "test receiver"})
        assert webhook.status_code == 201, webhook.text
        assert webhook.json()["secret"].startswith("whsec_")
        return agent.json()["id"], webhook.json()

    def create(
        self,
        agent_id: str,
        webhook_id: str,
        *,
        delay: Any = "immediate",
        reference: str = "ref-1",
        key: str | None = None,
    ) -> httpx.Response:
        body = {"agentId": agent_id, "webhookId": webhook_id, "reference": reference, "messages": MESSAGES}
        body["delay"] = delay
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.post("/api/v1/message-requests", json=body, headers=headers)

    def accept(self, agent_id: str, webhook_id: str, **kwargs: Any) -> dict[str, Any]:
        response = self.create(agent_id, webhook_id, **kwargs)
        assert response.status_code == 202, response.text
        accepted: dict[str, Any] = response.json()
        assert accepted["status"] == "scheduled"
        return accepted

    def get(self, request_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/message-requests/{request_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def attempts(self, request_id: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v1/message-requests/{request_id}/attempts")
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def wait_status(self, request_id: str, status: str, timeout: float) -> dict[str, Any]:
        last: dict[str, Any] = {}

        def reached() -> bool:
            last.update(self.get(request_id))
            return bool(last["status"] == status)

        with contextlib.suppress(AssertionError):
            until(reached, timeout, status)
        assert last["status"] == status, f"request {request_id} is {last}, not {status} after {timeout} s"
        return last


@contextlib.contextmanager
def api_client(server: RunningServer, token: str) -> Iterator[Api]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        yield Api(client)


@contextlib.contextmanager
def novaro(tmp_path: Path, *, webhook_timeout: float = 2, **delivery: Any) -> Iterator[Api]:
    """A fresh server with this [delivery] config, and a client holding its first token."""
    with running_server(server_args(tmp_path, webhook_timeout=webhook_timeout, **delivery), cwd=tmp_path) as server:
        assert server.first_token, "".join(server.output)
        with api_client(server, server.first_token) as api:
            yield api


def receipts_for(rx: Receiver, request_id: str) -> list[Receipt]:
    return [receipt for receipt in list(rx.receipts) if receipt.json["id"] == request_id]


def test_delivery_body_and_signature_verify_independently(tmp_path: Path, receiver):
    rx, hook_url = receiver
    with novaro(tmp_path) as api:
        agent_id, webhook = api.setup(hook_url)
        accepted = api.accept(agent_id, webhook["id"], reference="order-42")
        (receipt,) = rx.wait_for(1, timeout=5)

        # An independent Standard Webhooks implementation accepts the signature, and rejects a changed body.
        assert Webhook(webhook["secret"]).verify(receipt.body, receipt.headers) == receipt.json
        with pytest.raises(WebhookVerificationError):
            Webhook(webhook["secret"]).verify(receipt.body.replace(b"order-42", b"order-43"), receipt.headers)
        assert abs(int(receipt.headers["webhook-timestamp"]) - time.time()) < 10

        body = receipt.json
        assert set(body) == {"messages", "reference", "secret", "id", "agentId", "type", "conversationId"}
        assert (body["type"], body["conversationId"]) == ("reply", None)
        assert body["messages"], body
        for bubble in body["messages"]:
            assert set(bubble) == {"role", "createdAt", "content"}
            assert bubble["role"] == "assistant"
            assert isinstance(bubble["content"], str) and bubble["content"].strip()
            assert type(bubble["createdAt"]) is int
            assert accepted["createdAt"] - 1 <= bubble["createdAt"] <= time.time() + 3600
        assert body["reference"] == "order-42"
        assert body["secret"] == hashlib.sha256(webhook["secret"].encode()).hexdigest()
        assert body["id"] == receipt.headers["webhook-id"] == accepted["id"]
        assert body["agentId"] == agent_id
        assert receipt.headers["user-agent"].startswith("novaro-lite/")
        assert receipt.headers["content-type"] == "application/json"

        done = api.wait_status(accepted["id"], "delivered", timeout=5)
        assert done["attempts"] == 1
        assert done["deliveredAt"] is not None and accepted["createdAt"] <= done["deliveredAt"] <= time.time() + 1
        assert done["lastStatusCode"] == 200 and done["lastError"] is None
        (attempt,) = api.attempts(accepted["id"])
        assert attempt["statusCode"] == 200 and attempt["error"] is None
        assert attempt["responseBody"] == "answer 200"
    assert len(rx.receipts) == 1


def test_the_log_never_holds_a_webhook_url(tmp_path: Path, receiver):
    """A webhook URL often carries the receiver's secret; at the default log level it must not reach the log."""
    rx, hook_url = receiver
    secret = "key-in-the-url-4f1c9e"
    with running_server(server_args(tmp_path), cwd=tmp_path) as server:
        assert server.first_token
        with api_client(server, server.first_token) as api:
            agent_id, webhook = api.setup(f"{hook_url}?key={secret}")
            accepted = api.accept(agent_id, webhook["id"])
            rx.wait_for(1, timeout=5)
            api.wait_status(accepted["id"], "delivered", timeout=5)
    logged = "".join(server.output)
    assert "novaro_lite.access" in logged  # the log was on at INFO
    assert secret not in logged and "/hook" not in logged


def test_delivery_retries_500s_with_the_same_id_and_body(tmp_path: Path, receiver):
    rx, hook_url = receiver
    rx.answer(Answer(500), Answer(500), then=Answer(200))
    with novaro(tmp_path, retry_schedule=[1, 1, 1]) as api:
        agent_id, webhook = api.setup(hook_url)
        accepted = api.accept(agent_id, webhook["id"])
        receipts = rx.wait_for(3, timeout=8)
        done = api.wait_status(accepted["id"], "delivered", timeout=5)
        attempts = api.attempts(accepted["id"])

    assert len(receipts) == 3
    assert {receipt.webhook_id for receipt in receipts} == {accepted["id"]}
    assert len({receipt.body for receipt in receipts}) == 1, "a retry sent a different body"
    for receipt in receipts:
        Webhook(webhook["secret"]).verify(receipt.body, receipt.headers)
    gaps = [later.at - earlier.at for earlier, later in zip(receipts, receipts[1:], strict=False)]
    assert all(0.8 <= gap <= 4 for gap in gaps), f"retry_schedule = [1, 1, 1] but the gaps were {gaps}"
    assert done["attempts"] == 3 and done["lastStatusCode"] == 200 and done["lastError"] is None
    assert [attempt["statusCode"] for attempt in attempts] == [500, 500, 200]
    assert [attempt["error"] is None for attempt in attempts] == [False, False, True]


def test_delivery_honours_retry_after_on_429(tmp_path: Path, receiver):
    rx, hook_url = receiver
    rx.answer(Answer(429, headers={"Retry-After": "3"}), then=Answer(200))
    # The schedule's first retry is 1 s away; Retry-After is a minimum wait, so the retry comes ~3 s later.
    with novaro(tmp_path, retry_schedule=[1, 30]) as api:
        agent_id, webhook = api.setup(hook_url)
        accepted = api.accept(agent_id, webhook["id"])
        first, second = rx.wait_for(2, timeout=10)
        done = api.wait_status(accepted["id"], "delivered", timeout=5)
        attempts = api.attempts(accepted["id"])

    assert 2.5 <= second.at - first.at <= 7, f"retried {second.at - first.at:.2f} s after a Retry-After of 3 s"
    assert first.body == second.body and first.webhook_id == second.webhook_id == accepted["id"]
    assert done["attempts"] == 2
    assert [attempt["statusCode"] for attempt in attempts] == [429, 200]


def test_delivery_410_disables_the_webhook_and_pauses_until_it_is_enabled(tmp_path: Path, receiver):
    rx, hook_url = receiver
    rx.answer(Answer(410), then=Answer(200))
    with novaro(tmp_path, retry_schedule=[1, 1]) as api:
        agent_id, webhook = api.setup(hook_url)
        accepted = api.accept(agent_id, webhook["id"])
        rx.wait_for(1, timeout=5)
        paused = api.wait_status(accepted["id"], "paused", timeout=5)
        assert "410" in paused["lastError"]
        assert paused["lastStatusCode"] == 410 and paused["attempts"] == 1 and paused["deliveredAt"] is None
        assert [attempt["statusCode"] for attempt in api.attempts(accepted["id"])] == [410]

        shown = api.client.get(f"/api/v1/webhooks/{webhook['id']}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["enabled"] is False and shown.json()["pausedCount"] == 1
        assert "410" in shown.json()["disabledReason"]

        refused = api.create(agent_id, webhook["id"], reference="after-410")
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["status"] == 409
        assert len(rx.receipts) == 1, "a 410 is final for a disabled webhook: no retry"

        enabled = api.client.patch(f"/api/v1/webhooks/{webhook['id']}", json={"enabled": True})
        assert enabled.status_code == 200 and enabled.json()["pausedCount"] == 0, enabled.text
        api.wait_status(accepted["id"], "delivered", timeout=5)
    assert [receipt.webhook_id for receipt in rx.receipts] == [accepted["id"]] * 2
    assert rx.receipts[0].body == rx.receipts[1].body


def test_delivery_fails_after_the_retry_schedule_is_used_up(tmp_path: Path, receiver):
    rx, hook_url = receiver
    rx.answer(then=Answer(500))
    with novaro(tmp_path, retry_schedule=[1, 1]) as api:
        agent_id, webhook = api.setup(hook_url)
        accepted = api.accept(agent_id, webhook["id"])
        failed = api.wait_status(accepted["id"], "failed", timeout=8)
        attempts = api.attempts(accepted["id"])
        time.sleep(1.5)  # one more schedule step: nothing else may arrive once the request has failed
        assert api.get(accepted["id"])["status"] == "failed"

    assert failed["attempts"] == 3 and failed["lastStatusCode"] == 500 and failed["deliveredAt"] is None
    assert failed["lastError"] and "500" in failed["lastError"]
    assert [attempt["statusCode"] for attempt in attempts] == [500, 500, 500]
    assert len(rx.receipts) == 3
    assert {receipt.webhook_id for receipt in rx.receipts} == {accepted["id"]}


def test_cancel_stops_a_scheduled_delivery(tmp_path: Path, receiver):
    rx, hook_url = receiver
    # time_scale = 60 makes a 60 s delay come due after 1 s, so the wait below really gives the canceled
    # request its chance to go out; an uncanceled twin shows that the wait was long enough. The server's one
    # delivery slot is kept busy (a held delivery) until the DELETE is answered, so however slow the machine,
    # the request is still scheduled when it is canceled.
    slot_free = threading.Event()
    rx.answer(Answer(hold=slot_free))
    with novaro(tmp_path, time_scale=60, sweep_seconds=0.5, max_in_flight=1, webhook_timeout=60) as api:
        agent_id, webhook = api.setup(hook_url)
        api.accept(agent_id, webhook["id"], reference="holds the slot")
        rx.wait_for(1, timeout=10)
        doomed = api.accept(agent_id, webhook["id"], delay={"seconds": 60}, reference="doomed")
        twin = api.accept(agent_id, webhook["id"], delay={"seconds": 60}, reference="twin")
        canceled = api.client.delete(f"/api/v1/message-requests/{doomed['id']}")
        slot_free.set()
        assert canceled.status_code == 200, canceled.text
        assert canceled.json()["status"] == "canceled" and canceled.json()["id"] == doomed["id"]

        until(lambda: receipts_for(rx, twin["id"]), timeout=5, what="the uncanceled twin's delivery")
        api.wait_status(twin["id"], "delivered", timeout=3)
        time.sleep(1.0)  # two more sweeps
        assert receipts_for(rx, doomed["id"]) == [], "a canceled request was delivered"
        assert api.get(doomed["id"])["status"] == "canceled"
        assert api.get(doomed["id"])["attempts"] == 0
        assert api.attempts(doomed["id"]) == []

        again = api.client.delete(f"/api/v1/message-requests/{doomed['id']}")
        assert again.status_code == 409, again.text
        assert again.headers["content-type"].startswith("application/problem+json")
        late = api.client.delete(f"/api/v1/message-requests/{twin['id']}")
        assert late.status_code == 409, "a delivered request cannot be canceled"


def test_idempotency_key_accepts_a_request_once(tmp_path: Path, receiver):
    rx, hook_url = receiver
    with novaro(tmp_path, sweep_seconds=0.5) as api:
        agent_id, webhook = api.setup(hook_url)
        first = api.create(agent_id, webhook["id"], key="order-42-reply")
        second = api.create(agent_id, webhook["id"], key="order-42-reply")
        assert first.status_code == second.status_code == 202, (first.text, second.text)
        assert first.content == second.content

        other = api.create(agent_id, webhook["id"], key="order-42-reply", reference="another body")
        assert other.status_code == 409, other.text
        assert other.headers["content-type"].startswith("application/problem+json")
        assert other.json()["status"] == 409

        # The same key sent concurrently is still one request.
        with ThreadPoolExecutor(8) as pool:
            burst = list(pool.map(lambda _: api.create(agent_id, webhook["id"], key="burst"), range(8)))
        assert {response.status_code for response in burst} == {202}, [response.text for response in burst]
        assert len({response.content for response in burst}) == 1

        ids = {first.json()["id"], burst[0].json()["id"]}
        until(lambda: {receipt.webhook_id for receipt in rx.receipts} >= ids, timeout=5, what="both deliveries")
        for request_id in ids:
            api.wait_status(request_id, "delivered", timeout=3)
        time.sleep(1.0)  # two more sweeps: nothing else may go out
        listed = api.client.get("/api/v1/message-requests", params={"limit": 200})
        assert listed.status_code == 200, listed.text
        assert {request["id"] for request in listed.json()["data"]} == ids
    assert sorted(receipt.webhook_id for receipt in rx.receipts) == sorted(ids)


def test_time_scale_divides_the_requested_delay(tmp_path: Path, receiver):
    rx, hook_url = receiver
    with novaro(tmp_path, time_scale=60) as api:  # the default 30 s sweep: the wake-up must be on time
        agent_id, webhook = api.setup(hook_url)
        asked_at = time.time()
        accepted = api.accept(agent_id, webhook["id"], delay={"seconds": 300})
        accepted_at = time.monotonic()
        assert asked_at + 4 <= accepted["scheduledFor"] <= time.time() + 6, (accepted, asked_at)
        (receipt,) = rx.wait_for(1, timeout=10)
        api.wait_status(accepted["id"], "delivered", timeout=3)
    waited = receipt.at - accepted_at
    assert 4 <= waited <= 9, f"a 300 s delay at time_scale 60 was delivered after {waited:.2f} s"


def test_delivery_survives_a_crash_mid_delivery(tmp_path: Path, receiver):
    rx, hook_url = receiver
    # The first 4 deliveries are answered at once; every later one is held until the server has been killed, so
    # however slow the machine, the crash comes with all 8 delivery slots busy (max_in_flight): 4 requests
    # delivered, 8 in flight and 12 not yet sent. The held POSTs must not time out before the kill (the
    # webhook timeout is generous); the lease, which must outlast it, decides when the restart takes them up.
    released = threading.Event()
    rx.answer(*[Answer(200)] * 4, then=Answer(hold=released))
    args = server_args(tmp_path, webhook_timeout=10, max_in_flight=8, lease_seconds=11, sweep_seconds=0.5)
    with running_server(args, cwd=tmp_path) as first:
        token = first.first_token
        assert token, "".join(first.output)
        with api_client(first, token) as api:
            agent_id, webhook = api.setup(hook_url)
            with ThreadPoolExecutor(8) as pool:
                accepted = list(
                    pool.map(lambda n: api.accept(agent_id, webhook["id"], reference=f"r{n}")["id"], range(24))
                )
            rx.wait_for(4 + 8, timeout=20)
        os.killpg(first.process.pid, signal.SIGKILL)
        # Wait for the death without reaping the process, so running_server's own cleanup still finds it.
        os.waitid(os.P_PID, first.process.pid, os.WEXITED | os.WNOWAIT)
        cut = time.monotonic()
        released.set()  # the held answers go to a dead server
    ids = set(accepted)
    assert len(ids) == 24
    before = [receipt.json["id"] for receipt in rx.receipts if receipt.at < cut]
    answered, held = before[:4], before[4:]
    assert len(before) == len(set(before)) == 12, f"{len(before)} received before the crash: {before}"
    assert rx.most_open <= 8, f"the receiver held {rx.most_open} deliveries at once; max_in_flight is 8"

    rx.answer(then=Answer(200))
    with running_server(args, cwd=tmp_path) as second:
        assert second.first_token is None, "the restart must reuse the database"
        with api_client(second, token) as api:
            until(lambda: {receipt.json["id"] for receipt in rx.receipts} >= ids, 60, "every request received")

            def all_delivered() -> bool:
                page = api.client.get("/api/v1/message-requests", params={"limit": 200, "status": "delivered"})
                return len(page.json()["data"]) == 24

            until(all_delivered, 10, "all 24 requests to show delivered")
            statuses = collections.Counter(api.get(request_id)["status"] for request_id in accepted)
    assert statuses == {"delivered": 24}

    by_id: dict[str, list[Receipt]] = collections.defaultdict(list)
    for receipt in rx.receipts:
        by_id[receipt.json["id"]].append(receipt)
    assert set(by_id) == ids
    for request_id, receipts in by_id.items():
        assert {receipt.webhook_id for receipt in receipts} == {request_id}
        assert len({receipt.body for receipt in receipts}) == 1, f"{request_id} was sent with different bodies"
    sent_after = {request_id: sum(receipt.at > cut for receipt in by_id[request_id]) for request_id in ids}
    # Answered before the crash: sent again only if the server died before it recorded the answer.
    assert all(sent_after[request_id] <= 1 for request_id in answered), sent_after
    # In flight at the crash (never answered): delivered again after the restart, exactly once more.
    assert all(sent_after[request_id] == 1 for request_id in held), sent_after
    # Never sent before the crash: sent once, after the restart.
    assert all(len(by_id[request_id]) == 1 for request_id in ids - set(before)), sent_after


def test_delivery_keeps_to_max_in_flight_per_webhook(tmp_path: Path, receiver):
    rx, hook_url = receiver
    # Staggered answers, so deliveries finish one by one and the dispatcher tops up a partly busy webhook.
    rx.answer(*(Answer(sleep=0.2 + 0.15 * (n % 4)) for n in range(24)))
    with novaro(tmp_path, max_in_flight_per_webhook=4, sweep_seconds=0.5) as api:
        agent_id, webhook = api.setup(hook_url)
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda n: api.accept(agent_id, webhook["id"], reference=f"r{n}")["id"], range(24)))
        until(lambda: {receipt.webhook_id for receipt in rx.receipts} >= set(ids), 15, "every delivery")
    assert rx.most_open <= 4, f"the receiver held {rx.most_open} deliveries at once; max_in_flight_per_webhook is 4"


def test_cancel_during_delivery_keeps_the_record_true(tmp_path: Path, receiver):
    rx, hook_url = receiver
    rx.answer(Answer(200, sleep=1.5))  # the receiver holds the delivery while the DELETE arrives
    with novaro(tmp_path) as api:
        agent_id, webhook = api.setup(hook_url)
        accepted = api.accept(agent_id, webhook["id"])
        rx.wait_for(1, timeout=5)
        canceled = api.client.delete(f"/api/v1/message-requests/{accepted['id']}")
        with contextlib.suppress(AssertionError):  # a fix may abort the POST and log no attempt at all
            until(lambda: api.attempts(accepted["id"]), 4, "the attempt to be logged")
        final = api.get(accepted["id"])
        attempts = api.attempts(accepted["id"])

    # Either answer to the DELETE can be right; what the API says afterwards must match what happened.
    assert canceled.status_code in (200, 409), canceled.text
    accepted_by_receiver = [attempt for attempt in attempts if 200 <= (attempt["statusCode"] or 0) < 300]
    assert final["attempts"] == len(attempts), f"the request counts {final['attempts']} attempts, the log {attempts}"
    assert not (final["status"] == "canceled" and accepted_by_receiver), (
        f"DELETE answered {canceled.status_code} and the request reads canceled, yet the receiver accepted"
        f" the reply: {final} {attempts}"
    )
    if canceled.status_code == 409:
        assert final["status"] == "delivered"


def test_at_debug_level_the_log_holds_no_secret_token_or_content(tmp_path: Path, receiver):
    """The log never holds tokens, webhook secrets or what users wrote, at any level: at `debug`, aiosqlite
    logged every statement with its parameters (a rotated secret, a check-in's topic and messages)."""
    rx, hook_url = receiver
    args = server_args(tmp_path)
    (tmp_path / "novaro.toml").write_text((tmp_path / "novaro.toml").read_text().replace('"info"', '"debug"'))
    with running_server(args, cwd=tmp_path) as server, api_client(server, server.first_token or "") as api:
        agent_id, webhook = api.setup(hook_url)
        rotated = api.client.post(f"/api/v1/webhooks/{webhook['id']}/rotate-secret").json()["secret"]
        token = api.client.post("/api/v1/tokens", json={"name": "app"}).json()["token"]
        assert api.client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {token}"}).is_success
        accepted = api.accept(agent_id, webhook["id"], reference="secret-reference-7")
        api.wait_status(accepted["id"], "delivered", 10)
        check_in = api.client.post("/api/v1/check-ins", json={
            "agentId": agent_id, "webhookId": webhook["id"], "conversationId": "chat-1", "reference": "r",
            "topic": "topic-only-the-user-wrote", "window": {"after": 3600, "before": 7200},
            "quietHours": {"start": "00:00", "end": "00:00"},
        })  # fmt: skip
        assert check_in.status_code == 201, check_in.text
        log = "".join(server.output)
    assert "DEBUG" in log  # the level took
    for secret in (token, webhook["secret"], rotated, MESSAGES[-1]["content"], "topic-only-the-user"):
        assert secret not in log, secret
