from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import values
from prometheus_client.parser import text_string_to_metric_families
from starlette.datastructures import Secret

from novaro_lite.config.sections import MetricsSettings
from novaro_lite.config.settings import SchedulerSettings, Settings, WebhookSettings
from novaro_lite.delivery.dispatcher import Dispatcher
from novaro_lite.errors import ProviderBusyError, ProviderError, ProviderTimeoutError
from novaro_lite.generation import provider_outcome
from novaro_lite.observability.metrics import Metrics, QueueStats
from novaro_lite.observability.server_timing import CURRENT, RequestTiming, add_provider_time
from tests.fakes.world import account_world
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
SCRAPE_TOKEN = "scrape-token-0123456789"
SECRET_TEXT = "never-a-label-value"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def setup(tmp_path: Path, receiver) -> AsyncIterator[dict[str, Any]]:
    clock = Clock()
    settings = Settings(
        data_dir=tmp_path / "data",
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True),
        metrics=MetricsSettings(enabled=True, token_env="T", token=Secret(SCRAPE_TOKEN)),
    )
    async with account_world(settings, receiver[0], clock=clock) as world:
        yield world | {"clock": clock}


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert SECRET_TEXT not in response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_metrics_need_their_own_token(setup):
    client = setup["client"]
    assert_problem(await client.get("/metrics"), 401, "token_env")
    assert_problem(await client.get("/metrics", headers=setup["auth"]), 401)  # an API token is not it
    assert_problem(await client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
    non_ascii = {"Authorization": "Bearer \u00e9t\u00e9".encode()}  # raw UTF-8 bytes: once a 500
    assert_problem(await client.get("/metrics", headers=non_ascii), 401)


async def test_metrics_are_off_by_default(client: httpx.AsyncClient):
    assert_problem(await client.get("/metrics"), 404)


async def test_scrape_shows_requests_by_route_template_deliveries_queue_and_provider(setup):
    client, auth, clock = setup["client"], setup["auth"], setup["clock"]
    agent_id, hook_id = setup["agent"]["id"], setup["hook"]["id"]
    await client.get("/api/v1/agents/agt_missing", headers=auth)
    await client.get("/no/such/path/12345")
    message = [{"role": "user", "content": SECRET_TEXT}]
    realtime = await client.post("/api/v1/messages", json={"agentId": agent_id, "messages": message}, headers=auth)
    assert realtime.status_code == 200
    body = {"agentId": agent_id, "webhookId": hook_id, "reference": "r", "messages": message}
    now = await client.post("/api/v1/message-requests", json=body | {"delay": "immediate"}, headers=auth)
    later = await client.post("/api/v1/message-requests", json=body | {"delay": {"seconds": 3600}}, headers=auth)
    gone = await client.post("/api/v1/message-requests", json=body | {"delay": {"seconds": 3600}}, headers=auth)
    assert now.status_code == later.status_code == gone.status_code == 202
    await client.delete(f"/api/v1/message-requests/{gone.json()['id']}", headers=auth)
    clock.now += 30
    before = await scrape(client)
    assert before[("novaro_queue_pending", (("status", "scheduled"),))] == 2
    assert before[("novaro_queue_oldest_due_age_seconds", ())] == pytest.approx(30, abs=1.5)
    dispatcher = Dispatcher(setup["services"])
    await dispatcher.run_due()
    await dispatcher.wait_idle()
    samples = await scrape(client)
    assert samples[("novaro_http_requests_total", (("method", "GET"), ("route", "/api/v1/agents/{id}"),
                                                   ("status", "404")))] == 1  # fmt: skip
    assert samples[("novaro_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    assert samples[("novaro_http_request_duration_seconds_count", (("method", "POST"), ("route", "/api/v1/messages")))]
    assert samples[("novaro_message_requests_accepted_total", ())] == 3
    assert samples[("novaro_deliveries_total", (("outcome", "delivered"),))] == 1
    assert samples[("novaro_deliveries_total", (("outcome", "canceled"),))] == 1
    assert samples[("novaro_deliveries_total", (("outcome", "superseded"),))] == 0
    assert samples[("novaro_delivery_attempt_duration_seconds_count", ())] == 1
    assert samples[("novaro_delivery_lateness_seconds_sum", ())] == pytest.approx(30, abs=1.5)
    assert samples[("novaro_queue_pending", (("status", "scheduled"),))] == 1
    assert samples[("novaro_queue_oldest_due_age_seconds", ())] == 0
    demo = (("model", "demo"), ("outcome", "ok"), ("provider", "demo"))
    assert samples[("novaro_provider_request_duration_seconds_count", demo)] == 2  # realtime + the delivery
    assert samples[("novaro_provider_tokens_total", (("kind", "completion"), ("model", "demo"), ("provider", "demo")))]
    labels = {value for key in samples for _, value in key[1]}
    assert not any(value.startswith(("agt_", "whk_", "req_", "tok_", "nl_")) for value in labels)


async def test_a_streamed_reply_is_timed_to_its_end(setup):
    client, auth = setup["client"], setup["auth"]
    body = {"agentId": setup["agent"]["id"], "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with client.stream("POST", "/api/v1/messages", json=body, headers=auth) as response:
        assert response.status_code == 200
        await response.aread()
    samples = await scrape(client)
    demo = (("model", "demo"), ("outcome", "ok"), ("provider", "demo"))
    assert samples[("novaro_provider_request_duration_seconds_count", demo)] == 1


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "ok"),
        (ProviderTimeoutError("slow"), "timeout"),
        (ProviderBusyError("busy"), "busy"),
        (ProviderError("bad"), "error"),
        (GeneratorExit(), "canceled"),
    ],
)
def test_provider_outcome_labels(error, outcome):
    assert provider_outcome(error) == outcome


def test_disabled_metrics_record_nothing():
    metrics = Metrics(enabled=False)
    metrics.http_request("GET", "/x", 200, 0.1)
    metrics.accepted()
    metrics.delivery("delivered", seconds=1.0, lateness=1.0)
    metrics.provider_call("demo", "demo", "ok", 0.1, None)
    text = metrics.render(QueueStats({}, 0.0)).decode()
    assert "novaro_http_requests_total{" not in text and "novaro_message_requests_accepted_total 0.0" in text


def test_workers_counts_add_up_and_the_queue_gauges_show_the_latest_scrape(tmp_path: Path, monkeypatch):
    def worker(pid: int) -> Metrics:
        # What a worker's prometheus_client does when PROMETHEUS_MULTIPROC_DIR is set at its import; the
        # process identifier stands in for each worker's pid.
        monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue(process_identifier=lambda: pid))  # type: ignore[no-untyped-call]
        return Metrics(enabled=True, multiprocess_dir=tmp_path)

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    first = worker(101)
    for _ in range(3):
        first.http_request("POST", "/api/v1/messages", 200, 0.01)
    first.render(QueueStats({"scheduled": 9}, 30.0))
    second = worker(102)
    for _ in range(2):
        second.http_request("POST", "/api/v1/messages", 200, 0.01)
    second.accepted()
    text = second.render(QueueStats({"scheduled": 4}, 2.0)).decode()
    samples = [sample for family in text_string_to_metric_families(text) for sample in family.samples]

    def value(name: str, **labels: str) -> float:
        (found,) = [s.value for s in samples if s.name == name and s.labels.items() >= labels.items()]
        return found

    assert value("novaro_http_requests_total", route="/api/v1/messages", status="200") == 5
    assert value("novaro_http_request_duration_seconds_count", route="/api/v1/messages") == 5
    assert value("novaro_message_requests_accepted_total") == 1
    assert value("novaro_queue_pending", status="scheduled") == 4  # one series: the latest scrape's, not 9 + 4
    assert value("novaro_queue_oldest_due_age_seconds") == 2.0


def test_multiprocess_metrics_refuse_an_in_memory_value_store(tmp_path: Path):
    with pytest.raises(RuntimeError, match="before PROMETHEUS_MULTIPROC_DIR"):
        Metrics(enabled=True, multiprocess_dir=tmp_path)


async def test_superseded_requests_are_counted(setup):
    client, auth = setup["client"], setup["auth"]
    body = {"agentId": setup["agent"]["id"], "webhookId": setup["hook"]["id"], "reference": "r",
            "conversationId": "chat-1", "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    for _ in range(3):  # the second supersedes the first, the third the second
        assert (await client.post("/api/v1/message-requests", json=body, headers=auth)).status_code == 202
    samples = await scrape(client)
    assert samples[("novaro_deliveries_total", (("outcome", "superseded"),))] == 2


async def test_model_labels_stay_the_configured_names_whatever_models_agents_name(setup):
    """An agent's model id is free text: 50 distinct ones add no series beyond `other`."""
    client, auth, agent_id = setup["client"], setup["auth"], setup["agent"]["id"]
    message = {"agentId": agent_id, "messages": [{"role": "user", "content": "hi"}]}

    async def answer_with(model: str) -> None:
        patched = await client.patch(f"/api/v1/agents/{agent_id}", json={"model": model}, headers=auth)
        assert patched.status_code == 200, patched.text
        assert (await client.post("/api/v1/messages", json=message, headers=auth)).status_code == 200

    await answer_with("demo")
    await answer_with("demo/first-free-text-id")
    before = await scrape(client)
    for index in range(50):
        await answer_with(f"demo/{SECRET_TEXT}-{index}")
    after = await scrape(client)
    provider_series = {key for key in after if key[0].startswith("novaro_provider_")}
    assert provider_series == {key for key in before if key[0].startswith("novaro_provider_")}
    assert {dict(labels)["model"] for _, labels in provider_series} == {"demo", "other"}
    other = (("model", "other"), ("outcome", "ok"), ("provider", "demo"))
    assert after[("novaro_provider_request_duration_seconds_count", other)] == 51


def server_timing(response: httpx.Response) -> dict[str, float]:
    """The Server-Timing header as {name: milliseconds}."""
    entries = (entry.strip().split(";dur=") for entry in response.headers["server-timing"].split(","))
    return {name: float(value) for name, value in entries}


async def test_a_realtime_reply_says_what_the_provider_took_and_the_overhead_is_counted(setup):
    client, auth, agent_id = setup["client"], setup["auth"], setup["agent"]["id"]
    message = [{"role": "user", "content": "Dinner at 8?"}]
    native = await client.post("/api/v1/messages", json={"agentId": agent_id, "messages": message}, headers=auth)
    compat = await client.post("/v1/chat/completions", json={"model": agent_id, "messages": message}, headers=auth)
    for response in (native, compat):
        assert response.status_code == 200
        timing = server_timing(response)
        assert set(timing) == {"total", "provider"}
        assert 0 < timing["provider"] <= timing["total"]
    body = {"agentId": agent_id, "webhookId": setup["hook"]["id"], "reference": "r", "messages": message}
    accepted = await client.post("/api/v1/message-requests", json=body, headers=auth)
    assert accepted.status_code == 202 and "server-timing" not in accepted.headers  # no provider called
    samples = await scrape(client)
    for route in ("/api/v1/messages", "/v1/chat/completions"):
        assert samples[("novaro_http_overhead_seconds_count", (("route", route),))] == 1
        overhead = samples[("novaro_http_overhead_seconds_sum", (("route", route),))]
        took = samples[("novaro_http_request_duration_seconds_sum", (("method", "POST"), ("route", route)))]
        assert 0 <= overhead < took
    overheads = [labels for name, labels in samples if name.startswith("novaro_http_overhead")]
    assert ("route", "/api/v1/message-requests") not in {label for labels in overheads for label in labels}


async def test_provider_time_of_another_task_is_not_the_requests():
    timing = RequestTiming()
    token = CURRENT.set(timing)
    try:
        await asyncio.create_task(_add_provider_time_later(0.5))  # a task inheriting the context: not counted
        assert timing.provider is None
        add_provider_time(0.25)
        add_provider_time(0.5)
        assert timing.provider == 0.75
        assert timing.header(1.0) == b"total;dur=1000.00, provider;dur=750.00"
    finally:
        CURRENT.reset(token)


async def _add_provider_time_later(seconds: float) -> None:
    add_provider_time(seconds)
