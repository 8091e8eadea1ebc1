"""`novaro-lite check-in`: schedule, list and cancel through CliRunner, cross-checked against the API."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from novaro_lite.app import create_app
from novaro_lite.config.settings import Settings
from tests.cli.test_main import fails, invoke


@pytest.fixture
def data(tmp_path: Path) -> list[str]:
    config = tmp_path / "novaro.toml"
    config.write_text("[webhooks]\nallow_private_networks = true\n")
    return ["--data-dir", str(tmp_path / "data"), "--config", str(config)]


@pytest.fixture
def ids(data) -> tuple[str, str]:
    agent = json.loads(invoke("agent", "create", "--name", "Lena", "--timezone", "Europe/Berlin", *data))["id"]
    webhook = invoke("webhook", "create", "--url", "http://127.0.0.1:9/hook", *data).split()[0]
    return agent, webhook


def _create(data, ids, *extra: str) -> Any:
    agent, webhook = ids
    args = ("check-in", "create", "--agent", agent, "--webhook", webhook, "--conversation", "user-42", *extra)
    return json.loads(invoke(*args, *data))


def _api_get(tmp_path: Path, path: str) -> Any:
    token = invoke("token", "create", "--name", "t", "--data-dir", str(tmp_path / "data")).strip()

    async def get() -> httpx.Response:
        app = create_app(Settings(data_dir=tmp_path / "data"))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                return await client.get(path, headers={"Authorization": f"Bearer {token}"})

    return asyncio.run(get()).json()


def test_cli_check_in_create_draws_a_moment_in_the_window_and_the_api_shows_it(tmp_path: Path, data, ids):
    before = time.time()
    created = _create(
        data, ids, "--reference", "exam", "--topic", "ask how the exam went", "--after", "2h", "--before", "86400",
        "--timezone", "Europe/Paris", "--quiet-hours", "21:30-09:00", "--message", "user:Exam tomorrow, wish me luck",
    )  # fmt: skip
    assert created["id"].startswith("chk_") and created["status"] == "scheduled"
    assert before + 7200 - 1 <= created["window"]["notBefore"] <= created["scheduledFor"]
    assert created["scheduledFor"] <= created["window"]["notAfter"] <= time.time() + 86400
    assert created["quietHours"] == {"start": "21:30", "end": "09:00"} and created["timezone"] == "Europe/Paris"
    assert _api_get(tmp_path, f"/api/v1/check-ins/{created['id']}") == created


def test_cli_check_in_list_filters_and_cancel_says_why(data, ids):
    created = _create(data, ids, "--reference", "r", "--topic", "ask\x1b]0;x\x07 about it")
    listed = invoke("check-in", "list", *data)
    assert created["id"] in listed and "scheduled" in listed and "\x1b" not in listed and "\\u001b" in listed
    assert created["id"] not in invoke("check-in", "list", "--status", "canceled", *data)
    assert created["id"] not in invoke("check-in", "list", "--conversation", "user-7", *data)
    canceled = json.loads(invoke("check-in", "cancel", created["id"], *data))
    assert canceled["status"] == "canceled" and canceled["canceledReason"] == "canceled" and canceled["topic"] is None
    row = next(line for line in invoke("check-in", "list", "--status", "canceled", *data).splitlines()[1:])
    assert row.split()[0] == created["id"] and row.split()[-1] == "canceled"
    assert "cannot be canceled" in fails("check-in", "cancel", created["id"], *data)
    assert "no check-in" in fails("check-in", "cancel", "chk_gone", *data)


def test_cli_check_in_create_refuses_like_the_api(data, ids):
    _create(data, ids, "--reference", "first")
    assert "already has 1 check-in(s) waiting" in fails(
        "check-in", "create", "--agent", ids[0], "--webhook", ids[1], "--conversation", "user-42",
        "--reference", "second", *data,
    )  # fmt: skip
    agent, webhook = ids
    base = ("check-in", "create", "--agent", agent, "--webhook", webhook, "--reference", "x")
    assert "window" in fails(*base, "--conversation", "c2", "--after", "2h", "--before", "1h", *data)
    assert "must end after it starts, and after now" in fails(
        *base, "--conversation", "c2", "--before", "2000-01-01T00:00:00+00:00", *data
    )
    assert "timezone" in fails(*base, "--conversation", "c2", "--timezone", "Mars/Base", *data)
    assert "quietHours.start" in fails(*base, "--conversation", "c2", "--quiet-hours", "late", *data)
    assert "user:TEXT" in fails(*base, "--conversation", "c2", "--message", "hello", *data)
    assert "no agent" in fails(*base[:2], "--agent", "agt_gone", *base[4:], "--conversation", "c2", *data)
    # "²" is a digit to str.isdigit and nothing to int(); a number past the bound is named at its place.
    assert "window.after" in fails(*base, "--conversation", "c2", "--after", "\u00b2", *data)
    huge = fails(*base, "--conversation", "c2", "--after", "9" * 30, *data)
    assert "Invalid check-in: window.after: " in huge and "constrained" not in huge, huge
