"""`novaro-lite serve --workers 2`: two worker processes on one port and one SQLite file, end to end.

Which worker answered is read from the JSON log, where every line names its process (`pid`): two pids,
each a child of the server process, must answer. Realtime calls go through a fake upstream, async
replies to a local receiver; SIGTERM goes to the parent only, which must stop both workers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from novaro_lite.config.settings import Settings
from tests.e2e.server import RunningServer, novaro_command, running_server
from tests.fakes.engines import holders_of
from tests.fakes.llm import API_KEY, Recorder, openai_app
from tests.fakes.receiver import Answer, Receiver
from tests.fakes.serve import serve_in_thread

A = TypeVar("A")
T = TypeVar("T")
METRICS_TOKEN = "scrape-token-0123456789"
ENV = {"FAKE_LLM_KEY": API_KEY, "NOVARO_METRICS_TOKEN": METRICS_TOKEN}
MARKER = "words-that-must-not-outlive-their-request"
STARTED_WORKER = re.compile(r"Started server process \[(\d+)\]")


@pytest.fixture(autouse=True)
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs the workers on each engine (the server and the CLI inherit the URL)."""
    if database_url:
        monkeypatch.setenv("NOVARO_LITE_DATABASE_URL", database_url)


@pytest.fixture
def upstream() -> Iterator[str]:
    with serve_in_thread(openai_app(Recorder())) as url:
        yield f"{url}/v1"


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rx = Receiver()
    with serve_in_thread(rx.app()) as url:
        yield rx, f"{url}/hook"


def server_args(tmp_path: Path, upstream: str, **delivery: Any) -> list[str]:
    lines = [
        'log_format = "json"',
        "erase_seconds = 0.5",
        "",
        "[defaults]",
        'provider = "local"',
        "",
        "[providers.local]",
    ]
    lines += ['kind = "openai"', f'base_url = "{upstream}"', 'api_key_env = "FAKE_LLM_KEY"', 'model = "echo"', ""]
    lines += ["[metrics]", "enabled = true", 'token_env = "NOVARO_METRICS_TOKEN"', ""]
    lines += ["[webhooks]", "allow_private_networks = true", "", "[delivery]", "retry_jitter = 0"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in delivery.items()]
    config = tmp_path / "novaro.toml"
    config.write_text("\n".join(lines) + "\n")
    return ["--workers", "2", "--config", str(config), "--data-dir", str(tmp_path / "data")]


def log_entries(server: RunningServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in list(server.output) if line.startswith("{")]


def answering_pids(server: RunningServer, route: str) -> set[int]:
    """The processes that logged an access line for `route`."""
    return {
        entry["pid"]
        for entry in log_entries(server)
        if entry["logger"] == "novaro_lite.access" and entry.get("route") == route
    }


def worker_pids(server: RunningServer) -> set[int]:
    return {int(pid) for pid in STARTED_WORKER.findall("".join(server.output))}


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def burst(call: Callable[[A], T], arguments: Iterable[A]) -> list[T]:
    """Call once per argument from 8 threads."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(call, arguments))


def repeat(call: Callable[[], T], count: int) -> list[T]:
    return burst(lambda _: call(), range(count))


@contextlib.contextmanager
def clients(server: RunningServer) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two clients of the server: one opens a connection for every call, so the kernel spreads the calls
    over the workers' sockets; the other keeps its connections and sends the first token."""
    auth = {"Authorization": f"Bearer {server.first_token}"}
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    with (
        httpx.Client(base_url=server.url, timeout=10, limits=no_keepalive) as fresh,
        httpx.Client(base_url=server.url, timeout=10, headers=auth) as pooled,
    ):
        yield fresh, pooled


def until(check: Callable[[], Any], timeout: float, what: str | Callable[[], str]) -> Any:
    """Wait for `check` to hold; `what` names what was awaited (a callable says what was found instead)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, (
            f"timed out after {timeout} s waiting for {what if isinstance(what, str) else what()}"
        )
        time.sleep(0.05)
    return result


def sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", metrics, re.M)
    assert match, f"no {name}{{{wanted}}} in:\n{metrics}"
    return float(match.group(1))


def test_two_workers_answer_deliver_each_request_once_and_count_for_the_whole_server(
    database_url: str, tmp_path: Path, upstream: str, receiver: tuple[Receiver, str]
):
    rx, hook_url = receiver
    args = server_args(tmp_path, upstream)
    with running_server(args, cwd=tmp_path, env=ENV) as server, clients(server) as (fresh, pooled):
        auth = {"Authorization": f"Bearer {server.first_token}"}
        agent = pooled.post("/api/v1/agents", json={"name": "Ana"}).json()

        # Realtime: every call answered through the upstream, by both workers.
        body = {"agentId": agent["id"], "messages": [{"role": "user", "content": "olá"}]}
        realtime: list[httpx.Response] = []

        def both_workers_answered() -> bool:
            realtime.extend(repeat(lambda: fresh.post("/api/v1/messages", json=body, headers=auth), 16))
            return len(answering_pids(server, "/api/v1/messages")) == 2

        until(both_workers_answered, 20, "a realtime answer from each worker")
        assert {response.status_code for response in realtime} == {200}
        assert {response.json()["messages"][0]["content"] for response in realtime} == {"Echo: olá"}
        assert answering_pids(server, "/api/v1/messages") <= children(server.process.pid)

        # /metrics counts every worker's requests, whichever worker answers the scrape. Each scrape has a
        # request id of its own, which the access line of the worker that answered it names.
        scraped: dict[str, float] = {}

        def scrape(request_id: str) -> str:
            headers = {"Authorization": f"Bearer {METRICS_TOKEN}", "X-Request-Id": request_id}
            response = fresh.get("/metrics", headers=headers)
            assert response.status_code == 200
            return response.text

        def each_worker_counted_all() -> bool:
            ids = [f"scrape-{len(scraped) + index}" for index in range(8)]
            for request_id, text in zip(ids, burst(scrape, ids), strict=True):
                labels = {"method": "POST", "route": "/api/v1/messages", "status": "200"}
                scraped[request_id] = sample(text, "novaro_http_requests_total", **labels)
            assert max(scraped.values()) <= len(realtime)
            answered_by = {entry["request_id"]: entry["pid"] for entry in log_entries(server) if "pid" in entry}
            # A scrape that came a moment before an answering worker had counted its last request sees one
            # less; the next scrape of that worker must see them all.
            return len({answered_by.get(rid) for rid, count in scraped.items() if count == len(realtime)} - {None}) == 2

        until(each_worker_counted_all, 20, "a scrape answered by each worker that counted every request")

        # A token's rate limit holds for the server, not per worker, and for the tokens minted under it too.
        limited = pooled.post("/api/v1/tokens", json={"name": "limited", "rateLimit": 30})
        assert limited.status_code == 201, limited.text
        limited_auth = {"Authorization": f"Bearer {limited.json()['token']}"}
        if time.time() % 60 > 55:  # the burst must fall in one minute's window
            time.sleep(60 - time.time() % 60)
        child = fresh.post("/api/v1/tokens", json={"name": "child"}, headers=limited_auth)  # the family's 1st call
        child_auth = {"Authorization": f"Bearer {child.json()['token']}"}
        family = [limited_auth, child_auth] * 19 + [child_auth]
        verified = burst(lambda headers: fresh.get("/api/v1/auth/verify", headers=headers), family)
        assert sorted(response.status_code for response in verified) == [200] * 29 + [429] * 10

        # Async: 200 requests, each delivered once, by the workers' schedulers sharing the queue.
        webhook = pooled.post("/api/v1/webhooks", json={"url": hook_url}).json()
        async_body = {"agentId": agent["id"], "webhookId": webhook["id"], "reference": "r", "delay": "immediate"}
        async_body["messages"] = [{"role": "user", "content": MARKER}]
        accepted = repeat(lambda: pooled.post("/api/v1/message-requests", json=async_body), 200)
        assert {response.status_code for response in accepted} == {202}
        ids = {response.json()["id"] for response in accepted}
        rx.wait_for(200, timeout=30)

        # Every request ended, recorded delivered. The receiver saw each one before its answer reached the worker
        # that then records the delivery and purges the content: the erase window starts there, not at the receipt.
        def delivered() -> set[str]:
            listed = pooled.get("/api/v1/message-requests", params={"status": "delivered", "limit": 200})
            return {request["id"] for request in listed.json()["data"]}

        until(lambda: delivered() == ids, 30, lambda: f"every request delivered (not yet: {ids - delivered()})")
        time.sleep(0.5)  # a second delivery of any of them would arrive now
        webhook_ids = [receipt.webhook_id for receipt in rx.receipts]
        assert len(webhook_ids) == 200 and set(webhook_ids) == ids
        assert "\nnovaro_message_requests_accepted_total 200.0\n" in scrape("after-async")

        # Both workers purged (and, on SQLite, erased) what they delivered: the content has left the database.
        where = Settings(data_dir=tmp_path / "data", database_url=database_url)

        def erasure() -> str:
            holders = asyncio.run(holders_of(where, MARKER))
            said = [entry["message"] for entry in log_entries(server) if "WAL" in entry.get("message", "")]
            return f"erasure: still held by {holders}; the server said {said}"

        until(lambda: not asyncio.run(holders_of(where, MARKER)), 10, erasure)


def test_two_workers_deliver_each_turn_of_group_exchanges_once(tmp_path: Path, upstream: str, receiver):
    rx, hook_url = receiver
    with (
        running_server(server_args(tmp_path, upstream), cwd=tmp_path, env=ENV) as server,
        clients(server) as (_, pooled),
    ):
        agents = [pooled.post("/api/v1/agents", json={"name": name}).json()["id"] for name in ("Ana", "Bo", "Cy")]
        members = [{"agentId": agent_id} for agent_id in agents]
        group = {"name": "Trio", "members": members, "strategy": "list", "maxAgentTurns": 3}
        group_id = pooled.post("/api/v1/groups", json=group).json()["id"]
        webhook = pooled.post("/api/v1/webhooks", json={"url": hook_url}).json()

        def say(chat: int) -> httpx.Response:
            body = {"groupId": group_id, "webhookId": webhook["id"], "reference": f"r-{chat}", "delay": "immediate"}
            body |= {"conversationId": f"chat-{chat}", "messages": [{"role": "user", "content": "hi all"}]}
            return pooled.post("/api/v1/message-requests", json=body)

        accepted = burst(say, range(20))
        assert {response.status_code for response in accepted} == {202}
        rx.wait_for(60, timeout=30)  # 20 exchanges of 3 turns, each turn queued when the one before is delivered
        time.sleep(0.5)  # a second delivery of any turn would arrive now
        turns = collections.Counter((receipt.json["conversationId"], receipt.json["turn"]) for receipt in rx.receipts)
        assert turns == {(f"chat-{chat}", turn): 1 for chat in range(20) for turn in (1, 2, 3)}
        webhook_ids = [receipt.webhook_id for receipt in rx.receipts]
        assert len(set(webhook_ids)) == 60
        for chat in range(20):  # each exchange in member order, each turn after the one it answers
            said = [r for r in rx.receipts if r.json["conversationId"] == f"chat-{chat}"]
            assert [r.json["agentId"] for r in said] == agents and [r.json["turn"] for r in said] == [1, 2, 3]


def statuses(args: list[str]) -> collections.Counter[str]:
    """How many requests are in each status, by `novaro-lite requests list` on the server's database."""
    listed = subprocess.run(
        novaro_command("requests", "list", "--limit", "200", *args[2:]),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **ENV},
    )
    return collections.Counter(line.split()[1] for line in listed.stdout.splitlines()[1:])


def test_sigterm_to_the_parent_stops_every_worker_and_each_hands_back_its_claims(
    tmp_path: Path, upstream: str, receiver: tuple[Receiver, str]
):
    rx, hook_url = receiver
    stopped = threading.Event()
    rx.answer(then=Answer(hold=stopped))  # every delivery stays in flight until the server has stopped
    args = server_args(tmp_path, upstream, shutdown_grace_seconds=0.2, sweep_seconds=0.3, max_in_flight=4)
    with running_server(args, cwd=tmp_path, env=ENV) as server, clients(server) as (_, pooled):
        workers = until(lambda: worker_pids(server) if len(worker_pids(server)) == 2 else None, 20, "both workers")
        assert len(workers) == 2 and workers <= children(server.process.pid)
        agent = pooled.post("/api/v1/agents", json={"name": "Ana"}).json()
        webhook = pooled.post("/api/v1/webhooks", json={"url": hook_url}).json()
        body = {"agentId": agent["id"], "webhookId": webhook["id"], "reference": "r", "delay": "immediate"}
        body["messages"] = [{"role": "user", "content": "hi"}]
        accepted = repeat(lambda: pooled.post("/api/v1/message-requests", json=body), 30)
        assert {response.status_code for response in accepted} == {202}
        # Each worker delivers at most 4 at once (max_in_flight): more than 4 in flight means both claimed.
        until(lambda: rx.most_open > 4, 20, "deliveries in flight from both workers")

        os.kill(server.process.pid, signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
        stopped.set()
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
        finished = {int(pid) for pid in re.findall(r"Finished server process \[(\d+)\]", "".join(server.output))}
        assert finished == workers

    assert statuses(args) == {"scheduled": 30}  # handed back, due now, for the next start: none left claimed


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_workers_stop_when_the_parent_is_killed(tmp_path: Path, upstream: str):
    with running_server(server_args(tmp_path, upstream), cwd=tmp_path, env=ENV) as server:
        workers = until(lambda: worker_pids(server) if len(worker_pids(server)) == 2 else None, 20, "both workers")
        os.kill(server.process.pid, signal.SIGKILL)  # kill -9, the OOM killer: no chance to stop its workers
        until(lambda: not any(alive(pid) for pid in workers), 15, "the orphaned workers to stop")
        assert "Finished server process" in "".join(server.output)  # each stopped gracefully (SIGTERM)


def test_a_hang_up_sent_to_the_whole_process_group_stops_nothing(tmp_path: Path, upstream: str):
    with running_server(server_args(tmp_path, upstream), cwd=tmp_path, env=ENV) as server:
        workers = until(lambda: worker_pids(server) if len(worker_pids(server)) == 2 else None, 20, "both workers")
        os.killpg(server.process.pid, signal.SIGHUP)  # a terminal or ssh session hanging up; systemctl kill -s HUP
        time.sleep(1)
        assert all(alive(pid) for pid in workers) and server.process.poll() is None
        assert "died" not in "".join(server.output)
        assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_two_workers_deliver_each_check_in_once_and_the_users_message_ends_a_pending_one(
    tmp_path: Path, upstream: str, receiver: tuple[Receiver, str]
):
    rx, hook_url = receiver
    args = server_args(tmp_path, upstream, time_scale=3600)  # a model hour is a real second
    with running_server(args, cwd=tmp_path, env=ENV) as server, clients(server) as (_, pooled):
        until(lambda: len(worker_pids(server)) == 2, 20, "both workers")
        awake = {"name": "Ana", "activeHours": {"start": "00:00", "end": "00:00"}}  # never asleep
        agent = pooled.post("/api/v1/agents", json=awake).json()
        webhook = pooled.post("/api/v1/webhooks", json={"url": hook_url}).json()

        def schedule(chat: str, hours: tuple[int, int]) -> httpx.Response:
            body = {"agentId": agent["id"], "webhookId": webhook["id"], "conversationId": chat, "reference": chat}
            body |= {"window": {"after": hours[0] * 3600, "before": hours[1] * 3600}, "topic": "ask about the exam"}
            body |= {"quietHours": {"start": "00:00", "end": "00:00"}}  # none: the moments fall anywhere in 3 s
            body |= {"messages": [{"role": "user", "content": "Exam tomorrow, wish me luck"}]}
            return pooled.post("/api/v1/check-ins", json=body)

        scheduled = burst(lambda chat: schedule(f"chat-{chat}", (0, 3)), range(30))
        assert {response.status_code for response in scheduled} == {201}
        ids = {response.json()["id"] for response in scheduled}
        # Due half a model day (12 s) from now; the user writes first.
        waiting = schedule("chat-user", (12, 13)).json()
        message = {"agentId": agent["id"], "webhookId": webhook["id"], "reference": "u", "delay": "immediate"}
        message |= {"conversationId": "chat-user", "messages": [{"role": "user", "content": "hi, exam went well"}]}
        assert pooled.post("/api/v1/message-requests", json=message).status_code == 202
        ended = pooled.get(f"/api/v1/check-ins/{waiting['id']}").json()
        assert (ended["status"], ended["canceledReason"], ended["topic"]) == ("canceled", "user_wrote", None)

        def delivered() -> int:
            listed = pooled.get("/api/v1/check-ins", params={"status": "delivered", "limit": 100}).json()
            return int(listed["total"])

        until(lambda: delivered() == 30, 60, "every check-in delivered")
        rx.wait_for(31, timeout=30)  # and the reply to the user's message
        time.sleep(0.5)  # a second delivery of any of them would arrive now
        check_ins = [receipt.webhook_id for receipt in rx.receipts if receipt.json["type"] == "check_in"]
        assert len(check_ins) == 30 and set(check_ins) == ids
        assert waiting["id"] not in {receipt.webhook_id for receipt in rx.receipts}
        assert pooled.get(f"/api/v1/check-ins/{waiting['id']}").json()["status"] == "canceled"
