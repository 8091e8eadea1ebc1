"""Run `novaro-lite serve --port 0` as a real subprocess and find its port in the log."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STARTED = re.compile(r"Uvicorn running on http://([\d.]+):(\d+)")
FIRST_TOKEN = re.compile(r"\b(nl_[A-Za-z0-9_-]{43})\b")


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    @property
    def first_token(self) -> str | None:
        found = FIRST_TOKEN.search("".join(self.output))
        return found.group(1) if found else None


def novaro_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "novaro_lite", *args]


def wait_until_responds(url: str, *, deadline: float) -> None:
    """Poll `url` until it answers 200. With --workers the port is open before any worker has started, so
    the first request waits in the backlog for as long as start-up takes (seconds, on a busy machine)."""
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
        assert time.monotonic() < deadline, f"{url} did not answer 200 in time"


@contextlib.contextmanager
def running_server(
    args: Sequence[str],
    *,
    cwd: Path,
    command: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[RunningServer]:
    """Start `novaro-lite serve --port 0 ARGS` (or `command`), wait until it answers, stop it after."""
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    if "NOVARO_LITE_CONFIG" not in (env or {}):
        environ.pop("NOVARO_LITE_CONFIG", None)
    process = subprocess.Popen(
        list(command) if command else novaro_command("serve", "--port", "0", *args),
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so stopping reaches the server even when `make` started it
    )
    server = RunningServer(process, "")
    started = threading.Event()

    def drain() -> None:
        # Keep reading for the server's whole life: a full pipe would block its logging, and so the server.
        assert process.stdout is not None
        for line in process.stdout:
            server.output.append(line)
            if not started.is_set() and (match := STARTED.search(line)):
                server.url = f"http://{match.group(1)}:{match.group(2)}"
                started.set()
        started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert started.wait(timeout), "server did not start:\n" + "".join(server.output)
        assert server.url, "server exited before it started:\n" + "".join(server.output)
        wait_until_responds(f"{server.url}/healthz", deadline=time.monotonic() + timeout)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):  # the test may have stopped it already
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
            os.killpg(process.pid, signal.SIGKILL)
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
