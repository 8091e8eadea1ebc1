"""A receiver that answers a gzip bomb leaves the server's memory flat (issue 9.1).

The server is a real subprocess, so its peak resident size (VmHWM in /proc) is its own: the bomb is about
400 KiB on the wire and 400 MiB inflated, and six concurrent test pings used to take the server from
63 to 942 MiB.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import running_server
from tests.e2e.test_async_delivery import server_args
from tests.fakes.hostile import BOMB_INFLATED_MIB, gzip_bomb, hostile_app
from tests.fakes.serve import serve_in_thread

CONCURRENT_PINGS = 6
ALLOWED_GROWTH_MIB = 40


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"/proc/{pid}/status has no VmHWM line")  # pragma: no cover - Linux always has it


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    with serve_in_thread(hostile_app()) as url:
        yield url


def test_a_gzip_bomb_from_a_receiver_leaves_rss_flat(tmp_path: Path, hostile: str):
    assert len(gzip_bomb()) < 1024 * 1024 and BOMB_INFLATED_MIB >= 400  # small on the wire, huge inflated
    with running_server(server_args(tmp_path), cwd=tmp_path) as server:
        headers = {"Authorization": f"Bearer {server.first_token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            hook = client.post("/api/v1/webhooks", json={"url": f"{hostile}/bomb"})
            assert hook.status_code == 201, hook.text
            ping = f"/api/v1/webhooks/{hook.json()['id']}/test"
            idle = peak_rss_mib(server.process.pid)
            assert client.post(ping).status_code == 200  # warm up: imports, pools, first allocations
            before = peak_rss_mib(server.process.pid)
            with concurrent.futures.ThreadPoolExecutor(CONCURRENT_PINGS) as pool:
                answers = list(pool.map(lambda _: client.post(ping), range(CONCURRENT_PINGS)))
            after = peak_rss_mib(server.process.pid)
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["statusCode"] == 200 and len(answer.json()["responseBody"]) == 1024
    # Before the fix: 61 MiB idle, 313 after one ping, 439 after six concurrent ones.
    assert after - idle < ALLOWED_GROWTH_MIB, f"peak RSS grew from {idle:.0f} to {after:.0f} MiB"
    print(f"peak RSS {idle:.1f} idle, {before:.1f} after one ping, {after:.1f} after {CONCURRENT_PINGS} concurrent")
