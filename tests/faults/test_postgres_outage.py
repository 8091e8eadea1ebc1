"""PostgreSQL stopped and started again under load, under a real `novaro-lite serve` process.

Clients keep sending requests the whole time. While PostgreSQL is away they must hear 503 with Retry-After
(never a 500), /readyz must say 503, and the log must name the cause rather than fill with tracebacks; once it
is back, the server takes requests again by itself within a moment (measured: docs/benchmarks.md, "Faults"),
and every request it accepted is delivered exactly once, the ones in flight when the database went away
included, long before their lease (300 s) or the sweep (set to 600 s here) would have picked them up.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import running_server
from tests.e2e.test_several_servers import METRICS_TOKEN, write_config
from tests.fakes.postgres import StoppablePostgres
from tests.fakes.receiver import Answer as ReceiverAnswer, Receiver
from tests.fakes.serve import serve_in_thread

OUTAGE_SECONDS = 2.0
DEADLINE_SECONDS = 30.0  # generous: the machine is shared; a delivery left to its lease would take 300 s


@dataclasses.dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic() when the answer arrived
    status: int
    retry_after: str | None
    request_id: str | None


class Load:
    """One client thread sending async requests back to back, recording every answer."""

    def __init__(self, url: str, token: str, body: dict[str, object]) -> None:
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, token, body), daemon=True)

    def _run(self, url: str, token: str, body: dict[str, object]) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            while not self._stop.is_set():
                response = client.post("/api/v1/message-requests", json=body)
                accepted = response.json()["id"] if response.status_code == 202 else None
                self.answers.append(
                    Answer(time.monotonic(), response.status_code, response.headers.get("retry-after"), accepted)
                )

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def wait_until(self, predicate_count: int, *, after: float = 0.0, status: int = 202) -> float:
        """Wait for the `predicate_count`th answer with `status` that arrived after `after`; return when it came."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            found = [answer.at for answer in list(self.answers) if answer.status == status and answer.at > after]
            if len(found) >= predicate_count:
                return found[predicate_count - 1]
            assert time.monotonic() < deadline, (
                f"no {predicate_count} answers {status} within {DEADLINE_SECONDS} s: {self.answers[-3:]}"
            )
            time.sleep(0.01)


@pytest.fixture
def stoppable_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppablePostgres]:
    server = StoppablePostgres(tmp_path_factory.mktemp("pg"))
    yield server
    server.cleanup()


def wait_until_delivered(url: str, token: str, ids: set[str]) -> float:
    """Wait until the API says every request of `ids` is delivered, each at its first attempt; return when."""
    deadline, pending = time.monotonic() + DEADLINE_SECONDS, set(ids)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while pending:
            for request_id in list(pending):
                found = client.get(f"/api/v1/message-requests/{request_id}").json()
                if found["status"] == "delivered":
                    attempts = client.get(f"/api/v1/message-requests/{request_id}/attempts").json()
                    assert found["attempts"] == 1, (found, attempts)
                    pending.discard(request_id)
            assert time.monotonic() < deadline, f"{len(pending)} accepted requests not delivered: {sorted(pending)}"
            time.sleep(0.05)
    return time.monotonic()


def poll_readyz(url: str, status: int) -> float:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == status:
                return time.monotonic()
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"/readyz did not answer {status} within {DEADLINE_SECONDS} s"
        time.sleep(0.02)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_outage_answers_503_then_resumes_and_loses_nothing(
    stoppable_postgres: StoppablePostgres, tmp_path: Path, mode: str
) -> None:
    receiver = Receiver()
    receiver.answer(then=ReceiverAnswer(sleep=0.5))  # slow, so deliveries are in flight when PostgreSQL stops
    config = write_config(tmp_path, stoppable_postgres.url, {}, {"sweep_seconds": 600})
    args = ["--config", str(config), "--data-dir", str(tmp_path / "data")]
    with (
        serve_in_thread(receiver.app()) as hook_url,
        running_server(args, cwd=tmp_path, env={"E2E_METRICS_TOKEN": METRICS_TOKEN}) as server,
    ):
        token = server.first_token
        assert token is not None
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            agent = client.post(
                "/api/v1/agents",
                json={"name": "Lena", "timezone": "UTC", "activeHours": {"start": "00:00", "end": "00:00"}},
            )
            assert agent.status_code == 201, agent.text
            webhook = client.post("/api/v1/webhooks", json={"url": f"{hook_url}/hook"})
            assert webhook.status_code == 201, webhook.text
        body = {
            "agentId": agent.json()["id"],
            "webhookId": webhook.json()["id"],
            "messages": [{"role": "user", "content": "Still there?"}],
            "reference": "outage",
            "delay": "immediate",
        }
        with Load(server.url, token, body) as load:
            load.wait_until(20)  # under way: some accepted, some in flight
            stoppable_postgres.stop(mode)
            down = time.monotonic()
            load.wait_until(1, after=down, status=503)
            poll_readyz(server.url, 503)
            time.sleep(max(0.0, down + OUTAGE_SECONDS - time.monotonic()))
            stoppable_postgres.start()
            up = time.monotonic()
            accepting = load.wait_until(1, after=up)
            ready = poll_readyz(server.url, 200)
            load.wait_until(20, after=up)
        answers = load.answers
        accepted = {answer.request_id for answer in answers if answer.request_id}
        recorded = wait_until_delivered(server.url, token, accepted)

    statuses = {answer.status for answer in answers}
    assert statuses <= {202, 503}, statuses
    assert all(answer.retry_after == "1" for answer in answers if answer.status == 503)
    print(
        f"\n{mode}: accepting again {accepting - up:.2f} s after PostgreSQL was back, ready {ready - up:.2f} s,"
        f" every accepted request recorded delivered {recorded - up:.2f} s after"
    )
    assert accepting - up < 5.0, "the server did not resume by itself within 5 s of PostgreSQL's return"
    delivered = [receipt.json["id"] for receipt in receiver.receipts]
    assert accepted <= set(delivered)
    assert len(delivered) == len(set(delivered)), "a delivery was sent twice"

    log = "".join(server.output)
    assert "Traceback" not in log and "unhandled error" not in log, log[-3000:]
    outage_lines = [line for line in log.splitlines() if "database unavailable" in line]
    assert 1 <= len(outage_lines) <= 10, outage_lines
    assert "database available again" in log
