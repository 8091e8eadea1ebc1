"""A server frozen (SIGSTOP) while a delivery is in flight, on each engine: an answer it got is not resent,
and a server that lost its lease meanwhile records nothing about the request.

The receiver stops the sending server itself, right after reading the POST and before answering, so the
answer is in the server's socket before the freeze ends, whatever the load on this machine. Each test takes
about 7-12 s (a freeze past the webhook timeout, or past the lease).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.e2e.server import RunningServer, running_server
from tests.e2e.test_async_delivery import api_client, until
from tests.fakes.serve import serve_in_thread

# Four real-server freezes take most of a minute together (40-70 s at load 15-20): `make faults` runs them,
# `make test` does not. What made the takeover flaky on PostgreSQL (a server stopped mid-claim held the claim
# lock) is checked in `make test` by tests/storage/test_postgres_races.py, in a few seconds.
pytestmark = pytest.mark.long
METRICS_TOKEN = "faults-metrics-token-0123456789"
DELIVERED = re.compile(r'^novaro_deliveries_total\{outcome="delivered"\} ([\d.e+]+)$', re.MULTILINE)


class FreezingReceiver:
    """Answers 200 to every delivery; the first one after `freeze_next(pid)` stops that process first."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.frozen = threading.Event()
        self._pid: int | None = None
        self._lock = threading.Lock()

    def freeze_next(self, pid: int) -> None:
        self._pid = pid

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = json.loads(await request.body())
            with self._lock:
                self.ids.append(body["id"])
                pid, self._pid = self._pid, None
            if pid is not None:
                os.kill(pid, signal.SIGSTOP)
                self.frozen.set()
            return Response("ok")

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture
def receiver() -> Iterator[tuple[FreezingReceiver, str]]:
    rx = FreezingReceiver()
    with serve_in_thread(rx.app()) as url:
        yield rx, f"{url}/hook"


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    """Every server here runs on this engine (a PostgreSQL URL in the environment, or SQLite in data_dir)."""
    return {"E2E_METRICS_TOKEN": METRICS_TOKEN, **({"NOVARO_LITE_DATABASE_URL": database_url} if database_url else {})}


def config(tmp_path: Path, **delivery: Any) -> list[str]:
    lines = ['log_level = "info"', "", "[metrics]", "enabled = true", 'token_env = "E2E_METRICS_TOKEN"', ""]
    lines += ["[webhooks]", "allow_private_networks = true", "timeout_seconds = 2", ""]
    lines += ["[delivery]", "retry_jitter = 0", "retry_schedule = [1]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in delivery.items()]
    path = tmp_path / "novaro.toml"
    path.write_text("\n".join(lines) + "\n")
    return ["--config", str(path), "--data-dir", str(tmp_path / "data")]


@contextlib.contextmanager
def resumed_at_the_end(server: RunningServer) -> Iterator[None]:
    try:
        yield
    finally:
        os.kill(server.process.pid, signal.SIGCONT)


def delivered_count(server: RunningServer) -> float:
    metrics = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert metrics.status_code == 200, metrics.text
    found = DELIVERED.search(metrics.text)
    return float(found.group(1)) if found else 0.0


def accept(server: RunningServer, token: str, hook_url: str) -> str:
    with api_client(server, token) as api:
        agent_id, webhook = api.setup(hook_url)
        return str(api.accept(agent_id, webhook["id"])["id"])


def test_an_answer_that_came_while_the_server_was_frozen_is_not_resent(tmp_path: Path, receiver, env):
    rx, hook_url = receiver
    with running_server(config(tmp_path, lease_seconds=60), cwd=tmp_path, env=env) as server:
        assert server.first_token
        with resumed_at_the_end(server):
            rx.freeze_next(server.process.pid)
            request_id = accept(server, server.first_token, hook_url)
            assert rx.frozen.wait(30), "the delivery never came"
            threading.Event().wait(5)  # frozen well past the webhook timeout (2 s), the answer waiting in its socket
            os.kill(server.process.pid, signal.SIGCONT)
            with api_client(server, server.first_token) as api:
                done = api.wait_status(request_id, "delivered", timeout=30)
                attempts = api.attempts(request_id)
        assert rx.ids == [request_id]
        assert done["attempts"] == 1
        assert [(a["statusCode"], a["error"]) for a in attempts] == [(200, None)]
        assert delivered_count(server) == 1


def test_a_server_frozen_past_its_lease_records_nothing_about_the_request_it_lost(tmp_path: Path, receiver, env):
    rx, hook_url = receiver
    args = config(tmp_path, lease_seconds=3)
    with running_server(args, cwd=tmp_path, env=env) as frozen:
        assert frozen.first_token
        with resumed_at_the_end(frozen):
            rx.freeze_next(frozen.process.pid)
            request_id = accept(frozen, frozen.first_token, hook_url)
            assert rx.frozen.wait(30), "the delivery never came"
            # A second server takes the request over once the frozen one's lease has run out, and delivers it.
            with running_server(args, cwd=tmp_path, env=env) as other, api_client(other, frozen.first_token) as api:
                api.wait_status(request_id, "delivered", timeout=30)
                assert rx.ids == [request_id, request_id]
                os.kill(frozen.process.pid, signal.SIGCONT)
                until(lambda: "not recorded" in "".join(frozen.output), 30, "the thawed server to give up")
                assert [(a["statusCode"], a["error"]) for a in api.attempts(request_id)] == [(200, None)]
                assert api.get(request_id)["attempts"] == 1
                assert delivered_count(other) == 1
                assert delivered_count(frozen) == 0
