"""The real server as a subprocess on a random port, driven over HTTP and by the CLI beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.e2e.server import novaro_command, running_server


def test_first_start_prints_one_token_that_the_api_accepts(tmp_path: Path):
    with running_server([], cwd=tmp_path) as server:
        token = server.first_token
        assert token is not None
        verified = httpx.get(f"{server.url}/api/v1/auth/verify", headers={"Authorization": f"Bearer {token}"})
        assert verified.status_code == 200
        assert verified.json()["account"] == "default"
    assert (tmp_path / "data" / "novaro.db").exists()
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
