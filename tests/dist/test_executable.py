"""The one-file executable from `make dist`, copied into an empty directory and run with a bare environment
where no Python, no source tree and no system zone files can be seen (tests/dist/bare.py): the CLI, then the
server answering over HTTP, in realtime and at a webhook on loopback.
"""

from __future__ import annotations

import gzip
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from novaro_lite import __version__
from novaro_lite.api.docs.pages import SCALAR_BUNDLE
from tests.dist.bare import EXTENSIONS, bare, hidden_paths, install, run
from tests.e2e.server import RunningServer, running_server
from tests.fakes.postgres import LocalPostgres
from tests.fakes.receiver import Receiver
from tests.fakes.serve import serve_in_thread

STATIC = SCALAR_BUNDLE.parents[1]  # novaro_lite/static in the checkout, to compare with what is served

CONFIG = """
[webhooks]
allow_private_networks = true  # the test's receiver listens on loopback

[delivery]
retry_jitter = 0
"""


@dataclass
class Served:
    server: RunningServer
    client: httpx.Client
    receiver: Receiver
    hook_url: str


@pytest.fixture(scope="module")
def executable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install(tmp_path_factory.mktemp("download") / "empty")


@pytest.fixture(scope="module")
def served(executable: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`serve --port 0` from an empty working directory, with a config file and a token made by the CLI."""
    home = tmp_path_factory.mktemp("home")
    (home / "novaro.toml").write_text(CONFIG)
    created = run(executable, "token", "create", "--name", "dist-test", "--data-dir", "data", cwd=home)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("nl_"), created.stdout
    rx = Receiver()
    args = ("serve", "--port", "0", "--config", "novaro.toml", "--data-dir", "data")
    with (
        serve_in_thread(rx.app()) as receiver_url,
        running_server([], cwd=home, command=bare(executable, *args)) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client,
    ):
        yield Served(server, client, rx, f"{receiver_url}/hook")


def test_the_environment_hides_the_python_that_built_it():
    hidden = {str(path) for path in hidden_paths()}
    assert str(Path(__file__).resolve().parents[2]) in hidden
    assert any("python3" in path for path in hidden), hidden  # the standard library of the building Python


def test_version_and_help_name_the_command(executable: Path):
    version = run(executable, "--version", cwd=executable.parent)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"novaro-lite, version {__version__}"
    usage = run(executable, "--help", cwd=executable.parent)
    assert usage.stdout.startswith("Usage: novaro-lite [OPTIONS] COMMAND"), usage.stdout
    assert sorted(path.name for path in executable.parent.iterdir()) == ["novaro-lite"]  # it left nothing beside it


def test_zone_lookups_use_the_zone_files_inside(executable: Path, tmp_path: Path):
    # The system's zone files are hidden, so Europe/Berlin is found in the bundled tzdata or not at all.
    berlin = ("agent", "create", "--name", "Lena", "--timezone", "Europe/Berlin", "--data-dir", "data")
    created = run(executable, *berlin, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["timezone"] == "Europe/Berlin"
    mars = ("agent", "create", "--name", "X", "--timezone", "Mars/Base", "--data-dir", "data")
    nowhere = run(executable, *mars, cwd=tmp_path)
    assert nowhere.returncode != 0 and "Mars/Base" in nowhere.stderr


def test_public_endpoints_and_the_scalar_bundle(served: Served):
    health = httpx.get(f"{served.server.url}/healthz")
    assert health.status_code == 200 and health.json()["version"] == __version__
    page = httpx.get(f"{served.server.url}/scalar")
    assert page.status_code == 200 and "/static/scalar/standalone.js" in page.text
    raw = httpx.get(f"{served.server.url}/static/scalar/standalone.js", headers={"Accept-Encoding": "gzip"})
    assert raw.status_code == 200 and raw.headers["content-encoding"] == "gzip"
    assert raw.content == gzip.decompress(SCALAR_BUNDLE.read_bytes())  # the vendored bundle, whole
    assert httpx.get(f"{served.server.url}/openapi.json").json()["openapi"].startswith("3.1")


def test_the_dashboard_is_served_from_inside_the_executable(served: Served):
    page = httpx.get(f"{served.server.url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("main.js", "style.css", "pages/agent.js"):
        asset = httpx.get(f"{served.server.url}/dashboard/{name}")
        assert asset.status_code == 200, name
        assert asset.content == (STATIC / "dashboard" / name).read_bytes()


def test_realtime_reply_from_the_demo_model(served: Served):
    agent = served.client.post("/api/v1/agents", json={"name": "Ana", "timezone": "Europe/Lisbon"})
    assert agent.status_code == 201, agent.text
    body = {"agentId": agent.json()["id"], "messages": [{"role": "user", "content": "Are you open tomorrow?"}]}
    reply = served.client.post("/api/v1/messages", json=body)
    assert reply.status_code == 200, reply.text
    bubbles = reply.json()["messages"]
    assert bubbles and all(bubble["role"] == "assistant" and bubble["content"].strip() for bubble in bubbles)


def test_async_reply_is_delivered_signed_to_a_local_receiver(served: Served):
    agent = served.client.post("/api/v1/agents", json={"name": "Lena", "timezone": "Europe/Berlin"}).json()
    webhook = served.client.post("/api/v1/webhooks", json={"url": served.hook_url}).json()
    body = {
        "agentId": agent["id"],
        "webhookId": webhook["id"],
        "reference": "dist-1",
        "delay": "immediate",
        "messages": [{"role": "user", "content": "Are you free on Friday?"}],
    }
    accepted = served.client.post("/api/v1/message-requests", json=body)
    assert accepted.status_code == 202, accepted.text
    (receipt,) = served.receiver.wait_for(1, timeout=10)
    assert Webhook(webhook["secret"]).verify(receipt.body, receipt.headers) == receipt.json
    assert receipt.json["reference"] == "dist-1" and receipt.json["id"] == accepted.json()["id"]
    deadline = time.monotonic() + 10
    status_url = f"/api/v1/message-requests/{accepted.json()['id']}"
    while (status := served.client.get(status_url).json()["status"]) != "delivered":
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.05)


def test_the_server_runs_on_the_c_extensions_inside_it(served: Served):
    # uvicorn quietly falls back to asyncio and h11 when uvloop or httptools cannot be imported: check what
    # the server's processes (the one-file loader and the Python it starts) have actually loaded.
    mapped = "".join(Path(f"/proc/{pid}/maps").read_text() for pid in _process_tree(served.server.process.pid))
    for extension in EXTENSIONS:
        assert extension in mapped, f"{extension}* is not loaded by the server"
    hidden = [str(path) for path in hidden_paths()]
    paths = {line.split(maxsplit=5)[-1] for line in mapped.splitlines() if line.count(" ") >= 5 and "/" in line}
    assert not [path for path in paths if path.startswith(tuple(hidden))]


def _process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(descendant for child in children for descendant in _process_tree(int(child)))]


def test_serve_workers_starts_its_workers_from_the_executable(executable: Path, tmp_path: Path):
    # A worker is a fresh process spawned from the executable itself (multiprocessing's freeze_support in
    # scripts/pyinstaller_entry.py), which must find the app factory and the settings its parent handed over.
    (tmp_path / "novaro.toml").write_text('log_format = "json"\n')
    args = ("serve", "--port", "0", "--workers", "2", "--config", "novaro.toml", "--data-dir", "data")
    with running_server([], cwd=tmp_path, command=bare(executable, *args)) as server:
        deadline = time.monotonic() + 30

        def started() -> int:
            return "".join(server.output).count("Application startup complete.")

        while started() < 2:
            assert time.monotonic() < deadline, "".join(server.output)
            time.sleep(0.05)
        with httpx.Client(base_url=server.url, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            assert {client.get("/healthz").status_code for _ in range(8)} == {200}
        server.process.send_signal(signal.SIGTERM)  # the `unshare` in front hands it on to the parent
        assert server.process.wait(timeout=20) == 0
    finished = [line for line in server.output if "Finished server process" in line]
    assert len(finished) == 2, "".join(server.output)


def test_the_cli_inside_works_on_postgresql(executable: Path, tmp_path: Path, postgres: LocalPostgres):
    (tmp_path / "novaro.toml").write_text(f'database_url = "{postgres.new_database()}"\n')
    config = ("--config", "novaro.toml")
    migrated = run(executable, "db", "migrate", *config, cwd=tmp_path)
    assert migrated.returncode == 0 and "migration(s) applied" in migrated.stdout, migrated.stderr
    created = run(executable, "token", "create", "--name", "on-postgres", *config, cwd=tmp_path)
    assert created.returncode == 0 and created.stdout.startswith("nl_"), created.stderr
    listed = run(executable, "token", "list", *config, cwd=tmp_path)
    assert listed.returncode == 0 and "on-postgres" in listed.stdout, listed.stderr
    assert not (tmp_path / "data").exists()  # nothing went to SQLite
