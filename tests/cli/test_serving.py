"""`serve` in one process, or as the parent of N workers: what it asks of uvicorn (the workers themselves run
in tests/e2e/test_workers.py)."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from uvicorn.config import STARTUP_FAILURE, Config

from novaro_lite.cli import serving
from novaro_lite.cli.http_server import BoundedHttpToolsProtocol
from novaro_lite.config.settings import Settings
from novaro_lite.workers.handoff import SETTINGS_ENV


@pytest.fixture
def uvicorn_logs(caplog: pytest.LogCaptureFixture, monkeypatch) -> pytest.LogCaptureFixture:
    """caplog, seeing uvicorn's logger too (uvicorn's own logging config, applied by other tests, stops it)."""
    monkeypatch.setattr(logging.getLogger("uvicorn"), "propagate", True)
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    return caplog


class FakeProcess:
    def __init__(self, config: Config, sockets: list[socket.socket], exitcode: int = 0) -> None:
        self.sockets = sockets
        self.exitcode = exitcode
        self.started = False

    def start(self) -> None:
        self.started = True


def test_one_worker_runs_the_app_in_this_process(tmp_path: Path, monkeypatch):
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.update(app=app, **options))
    monkeypatch.setenv("WEB_CONCURRENCY", "2")  # set by some hosting platforms; uvicorn would read it
    serving.serve(Settings(data_dir=tmp_path, port=0))
    assert not isinstance(seen["app"], str) and seen["workers"] == 1
    assert seen["http"] is BoundedHttpToolsProtocol and seen["access_log"] is False and seen["log_config"] is None


@pytest.mark.parametrize(("exitcode", "fails"), [(0, False), (STARTUP_FAILURE, True)])
def test_each_worker_gets_a_socket_that_listens_before_it_starts(
    tmp_path: Path, monkeypatch, uvicorn_logs, exitcode, fails
):
    seen: dict[str, Any] = {}

    class FakeSupervisor:
        def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
            seen.update(config=config, sockets=sockets)
            self.processes = [FakeProcess(config, [], 0), FakeProcess(config, [], exitcode)]

        def run(self) -> None:
            seen["settings_env"] = os.environ.get(SETTINGS_ENV)
            seen["ports"] = {sock.getsockname()[1] for sock in seen["sockets"]}
            # No worker listens yet, and a client is queued rather than refused.
            for sock in seen["sockets"]:
                with socket.create_connection(sock.getsockname(), timeout=2):
                    pass

    monkeypatch.setattr(serving, "WorkerSockets", FakeSupervisor)
    settings = Settings(data_dir=tmp_path, port=0, workers=3)
    if fails:
        with pytest.raises(SystemExit) as stopped:
            serving.serve(settings)
        assert stopped.value.code == STARTUP_FAILURE
    else:
        serving.serve(settings)
    config: Config = seen["config"]
    assert (config.app, config.factory, config.workers) == (serving.WORKER_FACTORY, True, 3)
    assert config.http is BoundedHttpToolsProtocol and config.access_log is False
    ports = seen["ports"]
    assert len(seen["sockets"]) == 3 and len(ports) == 1 and 0 not in ports
    assert f"Uvicorn running on http://127.0.0.1:{ports.pop()} with 3 workers" in uvicorn_logs.text
    assert seen["settings_env"] and SETTINGS_ENV not in os.environ
    assert all(sock.fileno() == -1 for sock in seen["sockets"])  # closed when the workers are gone


def test_a_port_in_use_stops_start_up_instead_of_sharing_it(tmp_path: Path, uvicorn_logs):
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # even one that would let us join it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            serving.serve(Settings(data_dir=tmp_path, port=port, workers=2))
    assert stopped.value.code == STARTUP_FAILURE
    assert f"Cannot listen on 127.0.0.1:{port}" in uvicorn_logs.text


def test_the_supervisor_starts_one_worker_per_socket_and_keeps_their_number(monkeypatch, uvicorn_logs):
    monkeypatch.setattr(serving, "Process", FakeProcess)
    monkeypatch.setattr("signal.signal", lambda signal, handler: None)  # keep pytest's own handlers
    sockets = serving.listening_sockets("127.0.0.1", 0, 2, 16)
    try:
        supervisor = serving.WorkerSockets(Config(serving.WORKER_FACTORY, workers=2, log_config=None), sockets)
        supervisor.init_processes()
        processes: list[Any] = supervisor.processes
        assert [process.sockets for process in processes] == [[sockets[0]], [sockets[1]]]
        assert all(process.started for process in processes)
        supervisor.handle_ttin()
        supervisor.handle_ttou()
        supervisor.handle_hup()
        assert supervisor.processes == processes and uvicorn_logs.text.count("number of workers is fixed") == 2
        assert "Ignored SIGHUP" in uvicorn_logs.text
    finally:
        for sock in sockets:
            sock.close()


def test_sockets_bound_before_a_failure_are_closed(monkeypatch):
    bound: list[socket.socket] = []

    def bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
        if len(bound) == 2:
            raise OSError(98, "Address already in use")
        sock = socket.socket()
        bound.append(sock)
        return sock

    monkeypatch.setattr(serving, "_bind", bind)
    with pytest.raises(OSError):
        serving.listening_sockets("127.0.0.1", 0, 3, 16)
    assert [sock.fileno() for sock in bound] == [-1, -1]


def test_an_ipv6_wildcard_listens_on_ipv6_only_as_one_process_does():
    sockets = serving.listening_sockets("::", 0, 2, 16)
    try:
        assert [sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) for sock in sockets] == [1, 1]
    finally:
        for sock in sockets:
            sock.close()


def test_on_sigterm_the_parent_stops_listening_before_the_workers_stop(monkeypatch, uvicorn_logs):
    monkeypatch.setattr("signal.signal", lambda signal, handler: None)  # keep pytest's own handlers
    sockets = serving.listening_sockets("127.0.0.1", 0, 2, 16)
    supervisor = serving.WorkerSockets(Config(serving.WORKER_FACTORY, workers=2, log_config=None), sockets)
    supervisor.handle_term()
    assert supervisor.should_exit.is_set() and all(sock.fileno() == -1 for sock in sockets)
