"""The operator's terminal is safe: names set through the API reach CLI tables and messages escaped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from novaro_lite.app import create_app
from novaro_lite.cli.main import main
from novaro_lite.cli.terminal import CliError, escape_controls
from novaro_lite.config.settings import SchedulerSettings, Settings

HOSTILE = "Eve\x1b[2J\x1b]0;owned\x07\rAdmin\x9b31m\u202egnp.exe\x7f\tx\ny"
ESCAPED = "Eve\\u001b[2J\\u001b]0;owned\\u0007\\rAdmin\\u009b31m\\u202egnp.exe\\u007f\\tx\\ny"
CONTROLS = set("\x1b\x07\r\x9b\u202e\x7f\t")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"NOVARO_LITE_CONFIG": ""})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_escape_controls_keeps_printable_text_and_escapes_every_control():
    assert escape_controls("Zoë 🌙 — «ok» \\ done") == "Zoë 🌙 — «ok» \\ done"
    assert escape_controls(HOSTILE) == ESCAPED
    assert CliError(HOSTILE).format_message() == ESCAPED


@pytest.fixture
def hostile_names(tmp_path: Path) -> list[str]:
    """A token, an agent and a context whose names were set through the API with control characters."""
    data = ["--data-dir", str(tmp_path / "data")]
    secret = invoke("token", "create", "--name", "operator", *data).strip()

    async def create_through_the_api() -> None:
        app = create_app(Settings(data_dir=tmp_path / "data", scheduler=SchedulerSettings(enabled=False)))
        auth = {"Authorization": f"Bearer {secret}"}
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                for path in ("/api/v1/tokens", "/api/v1/agents"):
                    created = await client.post(path, json={"name": HOSTILE}, headers=auth)
                    assert created.status_code == 201, created.text
                context = {"name": HOSTILE, "content": "c"}
                assert (await client.post("/api/v1/contexts", json=context, headers=auth)).status_code == 201

    asyncio.run(create_through_the_api())
    return data


def test_cli_tables_and_messages_print_names_set_through_the_api_escaped(hostile_names: list[str]):
    data = hostile_names
    token_list = invoke("token", "list", *data)
    outputs = [token_list, invoke("agent", "list", *data), invoke("context", "list", "--account", "default", *data)]
    agent_id = outputs[1].splitlines()[1].split()[0]
    outputs.append(invoke("agent", "show", agent_id, *data))
    hostile_token = next(line.split()[0] for line in token_list.splitlines() if "Eve" in line)
    outputs.append(invoke("token", "revoke", hostile_token, *data))
    for output in outputs:
        assert not CONTROLS & set(output), output
        assert "Eve" in output and "\\u001b[2J" in output and "\\rAdmin" in output
    header, row = outputs[0].splitlines()[0], next(line for line in token_list.splitlines() if "Eve" in line)
    assert row.index("default") == header.index("ACCOUNT")  # the escaped name keeps the columns aligned
