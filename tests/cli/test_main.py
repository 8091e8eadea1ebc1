"""CLI commands through CliRunner, cross-checked against the API on the same database."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from novaro_lite.app import create_app
from novaro_lite.cli.main import main
from novaro_lite.config.settings import Settings
from novaro_lite.domain.arrival import Plan


@pytest.fixture
def data(tmp_path: Path) -> list[str]:
    return ["--data-dir", str(tmp_path / "data")]


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"NOVARO_LITE_CONFIG": ""})
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"NOVARO_LITE_CONFIG": ""})
    assert result.exit_code != 0
    return result.output


def test_cli_token_create_prints_a_token_the_app_accepts(tmp_path: Path, data):
    token = invoke("token", "create", "--name", "my-app", "--account", "acme", "--expires-in", "30d", *data).strip()
    assert token.startswith("nl_")

    async def verify() -> httpx.Response:
        app = create_app(Settings(data_dir=tmp_path / "data"))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                return await client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {token}"})

    response = asyncio.run(verify())
    assert response.status_code == 200
    assert response.json()["name"] == "my-app" and response.json()["expiresAt"] is not None


def test_cli_token_create_refuses_an_account_that_could_not_be_told_apart(data):
    """`bob ` was made an account of its own beside `bob`, with none of bob's agents (a black-box hunt)."""
    for account, said in (("bob ", "begins or ends with a space"), (" bob", "space"), ("b\x01ob", "control")):
        assert said in fails("token", "create", "--name", "x", "--account", account, *data)
    assert "other than spaces" in fails("token", "create", "--name", "x", "--account", "  ", *data)
    assert invoke("token", "create", "--name", "x", "--account", "bob smith", *data).startswith("nl_")


def test_cli_token_list_shows_prefix_never_the_token_and_revoke_marks_it(data):
    token = invoke("token", "create", "--name", "listed", *data).strip()
    listing = invoke("token", "list", *data)
    assert "listed" in listing and token[:10] in listing and token not in listing
    token_id = listing.splitlines()[1].split()[0]
    assert "Revoked token" in invoke("token", "revoke", token_id, *data)
    assert listing.splitlines()[1].split()[-1] == "-"
    assert invoke("token", "list", *data).splitlines()[1].split()[-1] != "-"


def test_cli_token_list_survives_any_stored_time(tmp_path: Path, data):
    invoke("token", "create", "--name", "old", *data)
    with sqlite3.connect(tmp_path / "data" / "novaro.db") as db:  # as an older version could have stored it
        db.execute("UPDATE tokens SET expires_at = ?, last_used_at = ?", (10**14, -(10**14)))
    listing = invoke("token", "list", *data)
    assert f"@{10**14}" in listing and f"@{-(10**14)}" in listing


def test_cli_token_create_rejects_a_bad_duration_and_revoke_an_unknown_id(data):
    assert "not a duration" in fails("token", "create", "--name", "x", "--expires-in", "soon", *data)
    for absurd in ("99999999999999999999d", "3000000d", "3651d", "522w"):
        result = CliRunner().invoke(main, ["token", "create", "--name", "x", "--expires-in", absurd, *data])
        assert result.exit_code == 2 and "ten years" in result.output and "Traceback" not in result.output
    assert invoke("token", "create", "--name", "x", "--expires-in", "3650d", *data).startswith("nl_")
    assert "no token with id" in fails("token", "revoke", "tok_missing", *data)


def test_cli_agent_create_list_show_delete(data):
    created = json.loads(
        invoke(
            "agent",
            "create",
            "--name",
            "Lena",
            "--timezone",
            "Europe/Berlin",
            "--active-hours",
            "22:00-06:30",
            "--persona",
            "Night-shift nurse.",
            *data,
        )
    )
    assert created["activeHours"] == {"start": "22:00", "end": "06:30"}
    assert created["id"] in invoke("agent", "list", *data)
    assert json.loads(invoke("agent", "show", created["id"], *data)) == created
    assert "Deleted" in invoke("agent", "delete", created["id"], *data)
    assert "no agent with id" in fails("agent", "show", created["id"], *data)
    assert created["id"] not in invoke("agent", "list", *data)


def test_cli_agent_create_validates_like_the_api(data):
    assert "timezone" in fails("agent", "create", "--name", "X", "--timezone", "Mars/Base", *data)
    assert "activeHours.start" in fails("agent", "create", "--name", "X", "--active-hours", "9-5", *data)


def test_cli_group_create_list_show_delete(data):
    lena = json.loads(invoke("agent", "create", "--name", "Lena", *data))["id"]
    marco = json.loads(invoke("agent", "create", "--name", "Marco\x1b[2J", *data))["id"]
    created = json.loads(
        invoke("group", "create", "--name", "Flat\x1b]0;x\x07mates", "--member", f"{lena}:80", "--member", marco, *data)
    )
    assert created["members"] == [{"agentId": lena, "talkativeness": 80}, {"agentId": marco, "talkativeness": 50}]
    assert (created["strategy"], created["maxAgentTurns"]) == ("natural", 2)
    listed = invoke("group", "list", *data)
    assert (
        created["id"] in listed and lena in listed and "\x1b" not in listed and "Flat\\u001b]0;x\\u0007mates" in listed
    )
    assert json.loads(invoke("group", "show", created["id"], *data)) == created
    assert "Deleted" in invoke("group", "delete", created["id"], *data)
    assert "no group" in fails("group", "show", created["id"], *data)
    assert "whole number 0-100" in fails("group", "create", "--name", "G", "--member", f"{lena}:\u00b2", *data)
    assert json.loads(invoke("agent", "show", lena, *data))["id"] == lena


def test_cli_listen_refuses_a_port_out_of_range_before_it_starts():
    assert "--port" in fails("listen", "--port", "99999")  # it wrapped and listened on another port


def test_cli_group_create_validates_like_the_api(data):
    lena = json.loads(invoke("agent", "create", "--name", "Lena", *data))["id"]
    assert "members" in fails("group", "create", "--name", "Solo", "--member", lena, *data)
    assert "talkativeness" in fails(
        "group", "create", "--name", "G", "--member", f"{lena}:loud", "--member", lena, *data
    )
    assert "no agent with id 'agt_gone'" in fails(
        "group", "create", "--name", "G", "--member", lena, "--member", "agt_gone", *data
    )
    assert "maxAgentTurns" in fails(
        "group", "create", "--name", "G", "--member", lena, "--member", "agt_x", "--max-agent-turns", "7", *data
    )


def test_cli_reports_bad_configuration_naming_the_key(tmp_path: Path):
    config = tmp_path / "novaro.toml"
    config.write_text("port = 'high'\n")
    assert "port" in fails("token", "list", "--config", str(config))


def test_cli_webhook_create_list_rotate_delete(tmp_path: Path, data):
    config = tmp_path / "novaro.toml"
    config.write_text("[webhooks]\nallow_private_networks = true\n")
    created = invoke("webhook", "create", "--url", "http://127.0.0.1:9/hook", "--config", str(config), *data).split()
    webhook_id, secret = created
    assert webhook_id.startswith("whk_") and secret.startswith("whsec_")
    listed = invoke("webhook", "list", *data)
    assert webhook_id in listed and secret not in listed
    rotated = invoke("webhook", "rotate", webhook_id, *data).strip()
    assert rotated.startswith("whsec_") and rotated != secret
    assert "Deleted" in invoke("webhook", "delete", webhook_id, *data)
    assert "no webhook" in fails("webhook", "delete", webhook_id, *data)


def test_cli_webhook_create_refuses_private_targets_by_default(data):
    assert "allow_private_networks" in fails("webhook", "create", "--url", "http://127.0.0.1:9/hook", *data)


def test_cli_requests_list_shows_status_and_filters(tmp_path: Path, data):
    async def seed() -> None:
        from novaro_lite.domain.agents import AgentFields
        from novaro_lite.domain.messages import ChatMessage
        from novaro_lite.storage.store import Storage

        async with Storage.open(tmp_path / "data" / "novaro.db", time.time) as storage:
            agent = await storage.agents.create("default", AgentFields(name="A"))
            hook = await storage.webhooks.create("default", "http://127.0.0.1:9/hook", "", True)
            for reference in ("first", "second"):
                await storage.requests.create(
                    "default", agent_id=agent.id, webhook_id=hook.id, reference=reference,
                    messages=[ChatMessage("user", "hi")], context_ids=(), plan=Plan(time.time(), time.time()),
                )  # fmt: skip

    asyncio.run(seed())
    listed = invoke("requests", "list", *data)
    assert "first" in listed and "second" in listed and "scheduled" in listed
    assert invoke("requests", "list", "--status", "failed", *data).count("\n") == 1  # the header only


def test_cli_context_create_from_file_and_stdin_list_show_delete(tmp_path: Path, data):
    menu = tmp_path / "menu.md"
    menu.write_text("Rye bread\nCinnamon rolls\n")
    from_file = json.loads(invoke("context", "create", "--name", "Menu", "--file", str(menu), *data))
    assert from_file["content"] == "Rye bread\nCinnamon rolls\n"
    result = CliRunner().invoke(main, ["context", "create", "--name", "Hours", *data], input="7 to 19\n",
                                env={"NOVARO_LITE_CONFIG": ""})  # fmt: skip
    assert result.exit_code == 0, result.output
    hours = json.loads(result.stdout)
    listed = invoke("context", "list", *data)
    assert from_file["id"] in listed and hours["id"] in listed
    assert json.loads(invoke("context", "show", hours["id"], *data))["content"] == "7 to 19\n"
    agent = json.loads(invoke("agent", "create", "--name", "Lena", "--context", hours["id"], *data))
    assert agent["contextIds"] == [hours["id"]]
    assert "ctx_nope" in fails("agent", "create", "--name", "X", "--context", "ctx_nope", *data)
    assert "attached to 1 agent: Lena" in fails("context", "delete", hours["id"], *data)
    invoke("agent", "delete", agent["id"], *data)
    assert "Deleted" in invoke("context", "delete", hours["id"], *data)
    assert "no context" in fails("context", "show", hours["id"], *data)


def test_cli_agent_generate_creates_the_batch_with_the_demo_model(tmp_path: Path, data):
    customers = tmp_path / "customers.csv"
    customers.write_text("Lisbon, regular since 2019\nTokyo, orders online\n")
    table = invoke(
        "agent", "generate", "--count", "2", "--description", "bakery regulars", "--data", str(customers), *data
    )
    assert len(table.strip().splitlines()) == 3 and "Europe/Lisbon" in table and "Asia/Tokyo" in table
    created = json.loads(invoke("agent", "generate", "--count", "1", "--description", "bakers", "--json", *data))
    assert created[0]["id"] in invoke("agent", "list", *data)
    assert "count" in fails("agent", "generate", "--count", "0", "--description", "x", *data)


def test_cli_agent_import_and_export_cards_json_and_png(tmp_path: Path, data):
    from tests.fakes.cards import card_png, chunk, v2_card, v3_card

    card_file = tmp_path / "mira.json"
    card_file.write_text(json.dumps(v3_card()))
    agent = json.loads(invoke("agent", "import", str(card_file), *data))
    assert agent["name"] == "Mira" and agent["nickname"] == "Mimi" and len(agent["contextIds"]) == 3
    assert json.loads(invoke("agent", "export", agent["id"], *data)) == v3_card()
    out = tmp_path / "out.png"
    result = CliRunner().invoke(main, ["agent", "export", agent["id"], "--png", "-o", str(out), *data])
    assert result.exit_code == 0 and "Wrote" in result.output
    again = json.loads(invoke("agent", "import", str(out), *data))
    assert again["name"] == "Mira" and again["id"] != agent["id"]
    png_file = tmp_path / "v2.png"
    png_file.write_bytes(card_png([("chara", chunk(v2_card()))]))
    v2 = json.loads(invoke("agent", "import", str(png_file), *data))
    assert json.loads(invoke("agent", "export", v2["id"], "--v2", *data)) == v2_card()
    assert CliRunner().invoke(main, ["agent", "export", v2["id"], "--png", *data]).stdout_bytes.startswith(b"\x89PNG")


def test_cli_agent_import_reports_bad_cards(tmp_path: Path, data):
    bad = tmp_path / "bad.json"
    bad.write_text('{"spec": "chara_card_v2", "data": {"description": "no name"}}')
    assert "invalid at data.name: Field required" in fails("agent", "import", str(bad), *data)
    assert "There is no agent" in fails("agent", "export", "agt_nope", *data)
    huge = tmp_path / "huge.png"
    with huge.open("wb") as file:
        file.truncate(5 * 1024 * 1024 + 1)
    assert "larger than the 5,242,880 bytes" in fails("agent", "import", str(huge), *data)
    assert "larger than the 5,242,880 bytes" in fails("agent", "import", "/dev/zero", *data)  # its size says 0


def test_cli_context_create_makes_keyword_contexts(tmp_path: Path, data):
    prices = tmp_path / "prices.md"
    prices.write_text("Rye loaf 4.20")
    created = json.loads(
        invoke("context", "create", "--name", "Prices", "--file", str(prices), "--key", "price", "--key", "how much",
               "--secondary-key", "bread", "--selective", "--case-sensitive", "--scan-depth", "2", *data)
    )  # fmt: skip
    assert (created["keys"], created["secondaryKeys"], created["selective"]) == (["price", "how much"], ["bread"], True)
    assert (created["caseSensitive"], created["scanDepth"]) == (True, 2)
    assert "Invalid context: keys.0" in fails(
        "context", "create", "--name", "X", "--file", str(prices), "--key", "", *data
    )


def test_cli_creates_validate_as_the_api_does(tmp_path: Path, data):
    """Commands that wrote straight to storage stored what the API refuses (and NUL, which PostgreSQL refuses)."""
    nul = tmp_path / "nul.md"
    nul.write_text("bread\u0000and butter")
    assert "Invalid context: content: may not contain the NUL" in fails(
        "context", "create", "--name", "X", "--file", str(nul), *data
    )
    assert "Invalid webhook: url" in fails("webhook", "create", "--url", "http://127.0.0.1/a b", *data)
    assert "Invalid webhook: description" in fails(
        "webhook", "create", "--url", "http://127.0.0.1/h", "--description", "d" * 5000, *data
    )
    assert "Invalid token: name" in fails("token", "create", "--name", "n" * 201, *data)
    assert "--account" in fails("token", "create", "--name", "ok", "--account", " ", *data)


def test_cli_serve_takes_workers_from_its_option_and_bounds_them(tmp_path: Path, data, monkeypatch):
    served: list[Settings] = []
    monkeypatch.setattr("novaro_lite.cli.main.run_server", served.append)
    monkeypatch.setattr("novaro_lite.cli.main.configure_logging", lambda level, form: None)
    assert "Created the first API token" in invoke("serve", "--workers", "4", "--port", "0", *data)
    assert served[0].workers == 4 and served[0].port == 0
    assert "workers: 0 is not between 1 and 64" in fails("serve", "--workers", "0", *data)
    assert "workers: 65 is not between 1 and 64" in fails("serve", "--workers", "65", *data)
    assert len(served) == 1


def test_a_database_file_that_cannot_be_opened_is_one_clear_line(tmp_path: Path):
    """A directory where the file should be, or a file that is no database: a traceback before."""
    taken = tmp_path / "taken"
    (taken / "novaro.db").mkdir(parents=True)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "novaro.db").write_bytes(b"this is not an SQLite database, not at all" * 100)
    for data_dir in (taken, garbage):
        result = CliRunner().invoke(
            main, ["agent", "list", "--data-dir", str(data_dir)], env={"NOVARO_LITE_CONFIG": ""}
        )
        assert result.exit_code != 0 and not isinstance(result.exception, sqlite3.Error | OSError), result.exception
        assert f"Cannot open the SQLite database at {data_dir / 'novaro.db'}" in result.output, result.output


def test_files_that_cannot_be_read_or_written_are_one_clear_line(tmp_path: Path, data):
    binary = tmp_path / "binary.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81 not text")
    config = tmp_path / "bad.toml"
    config.write_bytes(b"port = 8080\n\xff\n")
    assert "is not UTF-8 text" in fails("context", "create", "--name", "M", "--file", str(binary), *data)
    assert "is not UTF-8 text" in fails("agent", "generate", "--count", "1", "--description", "x", "--data",
                                        str(binary), *data)  # fmt: skip
    assert "not UTF-8 text, as TOML must be" in fails("agent", "list", "--config", str(config), *data)
    agent = json.loads(invoke("agent", "create", "--name", "Lena", *data))["id"]
    missing = tmp_path / "no-such-dir" / "lena.json"
    assert f"Cannot write {missing}" in fails("agent", "export", agent, "-o", str(missing), *data)
