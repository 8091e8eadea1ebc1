"""The README and the docs are the contract: the quick start and the curl examples run as written."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from novaro_lite.cli.common import run_with_storage
from novaro_lite.config.settings import documented_settings, load_settings
from tests.e2e.server import running_server

ROOT = Path(__file__).resolve().parents[2]


def section(title: str, page: str = "README.md") -> str:
    """The text of the `## title` section of a page of the repository, up to the next `## ` or the end."""
    text = (ROOT / page).read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"{page} has no '## {title}' section"
    return match.group(1)


def shell_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_readme_quick_start_is_the_two_commands():
    assert shell_blocks(section("Quick start")) == ["make serve", "make test"]


def test_readme_quick_start_serves_and_its_curl_examples_work(tmp_path: Path):
    """Run `make serve` as written (on a free port and a scratch data dir), then the API examples in order."""
    command = ["bash", "-c", shell_blocks(section("Quick start"))[0]]
    env = {"NOVARO_LITE_PORT": "0", "NOVARO_LITE_DATA_DIR": str(tmp_path / "data")}
    with running_server([], cwd=ROOT, command=command, env=env) as server:
        assert server.first_token is not None, "".join(server.output)
        examples = [
            *shell_blocks(section("A taste of the API")),
            *shell_blocks(section("Tokens and agents", "docs/api.md")),
            *shell_blocks(section("Messages", "docs/api.md")),
            *shell_blocks(section("Groups", "docs/api.md")),
        ]
        assert len(examples) >= 5
        script = "set -euo pipefail\n" + "\n".join(examples).replace("http://127.0.0.1:8080", server.url)
        result = subprocess.run(
            ["bash", "-c", script],
            env={"TOKEN": server.first_token, "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"{script}\n{result.stdout}{result.stderr}"
    out = result.stdout
    assert '"account":"default"' in out and '"nextCursor":null' in out
    assert '"usage":{"provider":"demo"' in out and "Lena here" in out
    assert "event: delta" in out and "event: message" in out and "event: done" in out
    assert "event: speaker" in out and '"name":"Lena","turn":1' in out  # the group's stream: Lena was named
    assert (tmp_path / "data" / "novaro.db").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_readme_async_walkthrough_runs_against_listen(tmp_path: Path):
    """The async walkthrough as pasted: a loopback webhook, `novaro-lite listen`, an immediate request."""
    env = {
        "NOVARO_LITE_DATA_DIR": str(tmp_path / "data"),
        "NOVARO_LITE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    with running_server([], cwd=ROOT, env=env) as server:
        blocks = shell_blocks(section("A taste of the API"))[1:2] + shell_blocks(
            section("Replies at your webhook, timed like a person", "docs/api.md")
        )
        assert any("novaro-lite listen" in block for block in blocks)
        assert any("/api/v1/message-requests" in block and "curl" in block for block in blocks)
        script = "set -euo pipefail\n" + "\n".join(blocks)
        script = script.replace("http://127.0.0.1:8080", server.url).replace("9000", str(free_port()))
        token = run_with_storage(load_settings(None, env), lambda storage: storage.tokens.create("t", "default", None))
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=ROOT,
            env={"TOKEN": token[1], "PATH": env["PATH"], "PYTHONUNBUFFERED": "1"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        # The walkthrough ends by waiting until the request is `delivered`: finishing in time is the proof.
        assert result.returncode == 0, f"{script}\n{result.stdout}{result.stderr}"
    out = result.stdout
    assert "signature verified" in out and "reference 'chat-1234'" in out and "assistant:" in out, out


def test_readme_model_config_example_loads(tmp_path: Path):
    toml = re.search(r"```toml\n(.*?)```", section("Models", "docs/configuration.md"), re.S)
    assert toml is not None
    config = tmp_path / "novaro.toml"
    config.write_text(toml.group(1))
    settings = load_settings(config, {"OPENAI_API_KEY": "sk-x", "ANTHROPIC_API_KEY": "sk-y"})
    assert settings.defaults.provider == "ollama" and set(settings.providers) >= {"ollama", "openai", "anthropic"}


@pytest.mark.parametrize("name", [key for key, _ in documented_settings()])
def test_settings_table_documents_every_setting(name: str):
    assert f"| `{name}` |" in section("Settings", "docs/configuration.md")


def test_formats_openai_and_character_card_examples_work(tmp_path: Path):
    """The /v1 examples (curl, then the Python client) and the card examples, against a served process."""
    from tests.fakes.cards import card_png, chunk, v3_card

    openai_section = section("OpenAI-compatible API", "docs/formats.md")
    cards_section = section("Character Cards", "docs/formats.md")
    python = re.search(r"```python\n(.*?)```", openai_section, re.S)
    assert python is not None
    (tmp_path / "mira.png").write_bytes(card_png([("ccv3", chunk(v3_card()))]))
    with running_server([], cwd=tmp_path) as server:
        assert server.first_token is not None
        env = {"TOKEN": server.first_token, "PATH": os.environ["PATH"]}
        agent = httpx.post(
            f"{server.url}/api/v1/agents",
            json={"name": "Lena", "timezone": "Europe/Berlin"},
            headers={"Authorization": f"Bearer {server.first_token}"},
        ).json()

        def run(command: list[str], **extra: str) -> str:
            result = subprocess.run(command, env=env | extra, capture_output=True, text=True, timeout=60, cwd=tmp_path)
            assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
            return result.stdout

        def script(blocks: list[str]) -> list[str]:
            return [
                "bash",
                "-c",
                "set -euo pipefail\n" + "\n".join(blocks).replace("http://127.0.0.1:8080", server.url),
            ]

        curl = json.loads(run(script(shell_blocks(openai_section))))
        assert curl["object"] == "chat.completion" and "Lena here" in curl["choices"][0]["message"]["content"]
        printed = run([sys.executable, "-c", python.group(1).replace("http://127.0.0.1:8080", server.url)])
        assert agent["id"] in printed and "Lena here" in printed and "tokens)" in printed
        imported = json.loads(run(script(shell_blocks(cards_section)), AGENT_ID=agent["id"]).splitlines()[0])
        assert imported["name"] == "Mira"
    assert (tmp_path / "lena.png").read_bytes().startswith(b"\x89PNG")
