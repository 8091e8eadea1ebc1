"""Request heads are capped before the app: a 431 problem, fast, and no memory growth for a huge header."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from novaro_lite.http_server import HEAD_MAX, HEADER_LINE_MAX
from tests.e2e.server import RunningServer, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with running_server([], cwd=tmp_path_factory.mktemp("headers")) as server:
        yield server


def rss_kib(server: RunningServer) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def _raw(server: RunningServer) -> socket.socket:
    parts = urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer " + "x" * HEADER_LINE_MAX},  # one line too long
        {f"X-Filler-{n}": "y" * 8000 for n in range(9)},  # each line fine, the head too large
    ],
)
def test_an_oversized_request_head_is_a_431_problem(server, headers):
    response = httpx.get(f"{server.url}/api/v1/auth/verify", headers=headers)
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 431 and problem["type"] == "/problems/headers-too-large"
    assert str(HEADER_LINE_MAX) in problem["detail"] or str(HEAD_MAX) in problem["detail"]
    assert httpx.get(f"{server.url}{problem['type']}").status_code == 200


def test_headers_within_the_limits_still_work(server):
    headers = {f"X-Filler-{n}": "y" * 6000 for n in range(9)} | {"Authorization": f"Bearer {server.first_token}"}
    assert httpx.get(f"{server.url}/api/v1/auth/verify", headers=headers).status_code == 200


def test_a_64_mb_header_is_cut_off_early_and_memory_stays_flat(server):
    before = rss_kib(server)
    began, sent = time.monotonic(), 0
    with _raw(server) as sock:
        sock.sendall(b"GET /api/v1/auth/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
        chunk = b"x" * 65536
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert sent < 8 * 1024 * 1024, "the server kept reading a header far past its limit"
    assert time.monotonic() - began < 5
    assert rss_kib(server) - before < 10 * 1024  # KiB: not the 187 MB a whole 64 MB header once cost
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_large_body_is_not_mistaken_for_a_large_head(server):
    # The body's bytes arrive after the head is complete: 900 KB of them (under max_body_bytes) are fine.
    body = {"name": "big", "content": "z" * 900_000}
    headers = {"Authorization": f"Bearer {server.first_token}"}
    for _ in range(3):  # on one keep-alive connection, so a later request's head counts from zero
        with httpx.Client() as client:
            response = client.post(f"{server.url}/api/v1/contexts", json=body, headers=headers)
            # The app read the whole body and judged it: too long a content, a 422 that names it.
            assert response.status_code == 422 and "content" in response.json()["detail"], response.text
            assert client.get(f"{server.url}/healthz").status_code == 200
