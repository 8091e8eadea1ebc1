"""`serve` in one process, or as the parent of N workers: what it asks of uvicorn (the workers themselves run
in tests/e2e/test_workers.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from uvicorn.config import STARTUP_FAILURE, Config

from novaro_lite import serving
from novaro_lite.config import Settings
from novaro_lite.http_server import BoundedHttpToolsProtocol
from novaro_lite.workers import SETTINGS_ENV


class FakeProcess:
    def __init__(self, exitcode: int) -> None:
        self.exitcode = exitcode


def test_one_worker_runs_the_app_in_this_process(tmp_path: Path, monkeypatch):
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.update(app=app, **options))
    serving.serve(Settings(data_dir=tmp_path, port=0))
    assert not isinstance(seen["app"], str) and "workers" not in seen
    assert seen["http"] is BoundedHttpToolsProtocol and seen["access_log"] is False and seen["log_config"] is None


@pytest.mark.parametrize(("exitcode", "fails"), [(0, False), (STARTUP_FAILURE, True)])
def test_workers_share_a_socket_that_listens_before_they_start(tmp_path: Path, monkeypatch, exitcode, fails):
    seen: dict[str, Any] = {}

    class FakeSupervisor:
        def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
            seen.update(config=config, sockets=sockets)
            self.processes = [FakeProcess(0), FakeProcess(exitcode)]

        def run(self) -> None:
            seen["settings_env"] = os.environ.get(SETTINGS_ENV)
            # No worker listens yet, and a client is queued rather than refused.
            with socket.create_connection(seen["sockets"][0].getsockname(), timeout=2):
                pass

    monkeypatch.setattr(serving, "Multiprocess", FakeSupervisor)
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
    assert seen["settings_env"] and SETTINGS_ENV not in os.environ
    seen["sockets"][0].close()
