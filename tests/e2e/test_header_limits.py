"""Request heads are capped before the app: a 431 problem, fast, and no memory growth for a huge header."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from novaro_lite.cli.http_server import HEAD_MAX, HEADER_LINE_MAX
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


def test_under_v1_an_oversized_head_is_a_431_in_openais_shape(server):
    """OpenAI's clients read `error.message`; a problem body reached them as a bare "Error code: 431"."""
    response = httpx.get(f"{server.url}/v1/models", headers={"X-Big": "a" * (HEADER_LINE_MAX + 1)})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert str(HEADER_LINE_MAX) in error["message"] and error["type"] == "invalid_request_error"
    assert error["code"] == "request_header_fields_too_large"


@pytest.mark.parametrize(
    "request_line", [b"GET /healthz?q=\xc3\xa9 HTTP/1.1", b"BREW /healthz HTTP/1.1", b"GET /healthz HTTP/9.9"]
)
def test_a_request_the_parser_refuses_is_a_400_problem(server, request_line):
    """uvicorn answered these in plain text ("Invalid HTTP request received.")."""
    with _raw(server) as sock:
        sock.sendall(request_line + b"\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/problem+json" in head.lower(), head
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["detail"].startswith("The request is not valid HTTP/1.1")


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


def _send_until_closed(server: RunningServer, head: bytes, filler: bytes, most: int) -> tuple[int, bytes]:
    """Send `head`, then `filler` until the server closes or `most` bytes went; return (sent, its answer)."""
    sent = 0
    with _raw(server) as sock:
        sock.sendall(head)
        try:
            while sent < most:
                sock.sendall(filler)
                sent += len(filler)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(5)
        try:
            answer = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    return sent, answer


def test_an_endless_trailer_of_a_chunked_body_is_cut_off(server):
    head = (
        b"POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\n1\r\n{\r\n0\r\nX-Trailer: "
    )
    before = rss_kib(server)
    sent, _ = _send_until_closed(server, head, b"a" * 65536, 64 * 1024 * 1024)
    assert sent < 8 * 1024 * 1024, "the server kept reading a trailer far past the head limit"
    assert rss_kib(server) - before < 10 * 1024
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_pipelined_requests_after_a_large_body_are_answered(server):
    body = b'{"name": "p", "content": "' + b"z" * 120_000 + b'"}'
    auth = f"Authorization: Bearer {server.first_token}\r\n".encode()
    first = b"POST /api/v1/contexts HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Type: application/json\r\n"
    first += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    second = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with _raw(server) as sock:
        sock.sendall(first + second)  # the body and the next request's head arrive together
        answers = b""
        while answers.count(b"HTTP/1.1 ") < 2:
            chunk = sock.recv(65536)
            assert chunk, answers
            answers += chunk
    assert answers.startswith(b"HTTP/1.1 422") and b"HTTP/1.1 200" in answers and b" 431 " not in answers


def test_a_request_pipelined_after_a_refused_head_is_not_run(server):
    headers = {"Authorization": f"Bearer {server.first_token}"}
    before = httpx.get(f"{server.url}/api/v1/contexts", params={"limit": 200}, headers=headers).json()["data"]
    refused = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"x" * (HEADER_LINE_MAX + 1) + b"\r\n\r\n"
    payload = b'{"name": "must-not-exist", "content": "x"}'
    sneaked = (
        b"POST /api/v1/contexts HTTP/1.1\r\nHost: x\r\n" + f"Authorization: Bearer {server.first_token}\r\n".encode()
        + b"Content-Type: application/json\r\n" + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload
    )  # fmt: skip
    with _raw(server) as sock:
        sock.sendall(refused + sneaked)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431")
    after = httpx.get(f"{server.url}/api/v1/contexts", params={"limit": 200}, headers=headers).json()["data"]
    assert [c["name"] for c in after] == [c["name"] for c in before]


def test_under_v1_a_request_the_parser_refuses_is_a_400_in_openais_shape(server):
    with _raw(server) as sock:
        sock.sendall(b"GET /v1/models HTTP/9.9\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/json" in head.lower(), head
    error = json.loads(body)["error"]
    assert error["message"].startswith("The request is not valid HTTP/1.1") and error["code"] == "invalid_request"
