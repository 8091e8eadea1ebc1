"""The real server as a subprocess on a random port, driven over HTTP and by the CLI beside it."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import novaro_command, running_server


@pytest.fixture(autouse=True)
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs a real server, and the CLI beside it, on each engine (subprocesses inherit the URL)."""
    if database_url:
        monkeypatch.setenv("NOVARO_LITE_DATABASE_URL", database_url)


def test_first_start_prints_one_token_that_the_api_accepts(tmp_path: Path, database_url: str):
    with running_server([], cwd=tmp_path) as server:
        token = server.first_token
        assert token is not None
        verified = httpx.get(f"{server.url}/api/v1/auth/verify", headers={"Authorization": f"Bearer {token}"})
        assert verified.status_code == 200
        assert verified.json()["account"] == "default"
    assert (tmp_path / "data" / "novaro.db").exists() is not bool(database_url)  # PostgreSQL: nothing on disk here
    with running_server([], cwd=tmp_path) as again:
        assert again.first_token is None  # printed once, on the first start only
    assert token not in "".join(again.output)


def test_cli_token_commands_work_against_a_running_server(tmp_path: Path):
    data = ["--data-dir", str(tmp_path / "shared")]
    with running_server(data, cwd=tmp_path) as server:
        created = subprocess.run(
            novaro_command("token", "create", "--name", "ci", "--account", "acme", *data),
            capture_output=True,
            text=True,
            check=True,
        )
        token = created.stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        verified = httpx.get(f"{server.url}/api/v1/auth/verify", headers=headers).json()
        assert verified["name"] == "ci" and verified["account"] == "acme"
        agent = httpx.post(f"{server.url}/api/v1/agents", json={"name": "Ana"}, headers=headers)
        assert agent.status_code == 201
        listed = subprocess.run(
            novaro_command("agent", "list", "--account", "acme", *data), capture_output=True, text=True, check=True
        )
        assert agent.json()["id"] in listed.stdout
        subprocess.run(novaro_command("token", "revoke", verified["id"], *data), check=True, capture_output=True)
        refused = httpx.get(f"{server.url}/api/v1/auth/verify", headers=headers)
        assert refused.status_code == 401
    assert token not in "".join(server.output)


def test_bad_config_stops_start_up_naming_the_key(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text("prot = 8080\n")
    result = subprocess.run(
        novaro_command("serve", "--config", str(config)), capture_output=True, text=True, cwd=tmp_path, timeout=30
    )
    assert result.returncode != 0
    assert "prot" in result.stderr and "unknown setting" in result.stderr


def test_json_logs_carry_request_ids_and_never_the_token(tmp_path: Path):
    with running_server([], cwd=tmp_path, env={"NOVARO_LITE_LOG_FORMAT": "json"}) as server:
        token = server.first_token
        assert token is not None
        headers = {"Authorization": f"Bearer {token}", "X-Request-Id": "e2e-trace-1"}
        verified = httpx.get(f"{server.url}/api/v1/auth/verify", headers=headers)
        assert verified.headers["x-request-id"] == "e2e-trace-1"
        missing = httpx.get(f"{server.url}/api/v1/agents/agt_nope", headers={"Authorization": f"Bearer {token}"})
        assert missing.status_code == 404
        deadline = time.monotonic() + 10
        while sum('"novaro_lite.access"' in line for line in server.output) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    entries = [json.loads(line) for line in server.output if line.startswith("{")]
    assert any("Uvicorn running on" in entry["message"] for entry in entries)  # uvicorn's lines are JSON too
    access = [entry for entry in entries if entry["logger"] == "novaro_lite.access"]
    verify = next(entry for entry in access if entry["route"] == "/api/v1/auth/verify")
    assert verify["request_id"] == "e2e-trace-1" and verify["status"] == 200 and verify["level"] == "info"
    assert {"time", "duration_ms", "method"} <= set(verify)
    item = next(entry for entry in access if entry["status"] == 404)
    assert item["route"] == "/api/v1/agents/{id}" and item["request_id"] == missing.headers["x-request-id"]
    logged = "".join(line for line in server.output if line.startswith("{"))
    assert token not in logged and "agt_nope" not in logged
