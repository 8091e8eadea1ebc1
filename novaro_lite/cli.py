"""The novaro-lite command: serve, token and agent commands over the same settings and storage."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import pydantic
import uvicorn

from novaro_lite import __version__
from novaro_lite.api.schemas import AgentCreate, AgentOut
from novaro_lite.app import create_app
from novaro_lite.config import ConfigError, Settings, load_settings
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.tokens import parse_duration
from novaro_lite.errors import NotFoundError
from novaro_lite.providers.registry import check_model
from novaro_lite.storage.store import Storage

T = TypeVar("T")
DEFAULT_ACCOUNT = "default"


def _settings(config: Path | None, **overrides: Any) -> Settings:
    if config is None and os.environ.get("NOVARO_LITE_CONFIG"):
        config = Path(os.environ["NOVARO_LITE_CONFIG"])
    try:
        return load_settings(config, os.environ, **overrides)
    except ConfigError as exc:
        raise click.ClickException(f"Bad configuration: {exc}") from None


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --config and --data-dir, and pass the loaded Settings to the command as `settings`."""

    @click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML config file (default: $NOVARO_LITE_CONFIG).",
    )
    @click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Directory of novaro.db.")
    @functools.wraps(command)
    def wrapper(config: Path | None, data_dir: Path | None, **kwargs: Any) -> Any:
        overrides = {key: kwargs.pop(key) for key in ("host", "port") if key in kwargs}
        return command(_settings(config, data_dir=data_dir, **overrides), **kwargs)

    return wrapper


def _run_with_storage(settings: Settings, use: Callable[[Storage], Awaitable[T]]) -> T:
    async def run() -> T:
        async with Storage.open(settings.database_path, time.time) as storage:
            return await use(storage)

    try:
        return asyncio.run(run())
    except NotFoundError as exc:
        raise click.ClickException(exc.detail) from None


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    for row in (headers, *rows):
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@click.group()
@click.version_option(__version__, prog_name="novaro-lite")
def main() -> None:
    """novaro-lite: a self-hostable server for AI persona agents."""


@main.command()
@settings_options
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on; 0 picks a free one (default 8080).")
def serve(settings: Settings) -> None:
    """Run the API server.

    On a first start with no tokens in the database, one is created and printed once.

    \b
    Example:
        novaro-lite serve --port 8080 --data-dir ./data
    """
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")

    async def first_token(storage: Storage) -> str | None:
        if storage.tokens.count():
            return None
        return (await storage.tokens.create("first-start", DEFAULT_ACCOUNT, None))[1]

    secret = _run_with_storage(settings, first_token)
    if secret is not None:
        click.echo(f"Created the first API token (shown only this once): {secret}")
        port = settings.port or "<port>"
        click.echo(f"Use it: curl -H 'Authorization: Bearer {secret}' http://{settings.host}:{port}/api/v1/auth/verify")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level)


@main.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command("create")
@settings_options
@click.option("--name", required=True, help="What the token is for, e.g. the app that uses it.")
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns what it creates.")
@click.option("--expires-in", help="Lifetime such as 30d, 12h or 2w (default: never expires).")
def token_create(settings: Settings, name: str, account: str, expires_in: str | None) -> None:
    """Create an API token and print it once; only its hash is stored.

    \b
    Example:
        novaro-lite token create --name my-app --expires-in 30d
    """
    try:
        lifetime = None if expires_in is None else parse_duration(expires_in)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires-in") from None
    created, secret = _run_with_storage(settings, lambda storage: storage.tokens.create(name, account, lifetime))
    click.echo(secret)
    click.echo(f"Created token {created.id} for account {account!r}; it is shown only this once.", err=True)


@token.command("list")
@settings_options
def token_list(settings: Settings) -> None:
    """List tokens: id, name, account, prefix, created, last used, expires, revoked."""
    tokens = _run_with_storage(settings, lambda storage: storage.tokens.list())
    _echo_table(
        ("ID", "NAME", "ACCOUNT", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "REVOKED"),
        [
            (
                t.id,
                t.name,
                t.account,
                t.prefix + "…",
                _when(t.created_at),
                _when(t.last_used_at),
                _when(t.expires_at),
                _when(t.revoked_at),
            )
            for t in tokens
        ],
    )


@token.command("revoke")
@settings_options
@click.argument("token_id")
def token_revoke(settings: Settings, token_id: str) -> None:
    """Revoke a token by id; requests that use it get 401 at once."""
    revoked = _run_with_storage(settings, lambda storage: storage.tokens.revoke(token_id))
    click.echo(f"Revoked token {revoked.id} ({revoked.name}).")


@main.group()
def agent() -> None:
    """Create, list, show and delete agents."""


def _print_agent_json(agent: AgentOut) -> None:
    click.echo(json.dumps(agent.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))


@agent.command("create")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the agent.")
@click.option("--name", required=True, help="The agent's name.")
@click.option("--persona", default="", help="Who the agent is, in free text.")
@click.option("--location", help="Where the agent lives, e.g. 'Lisbon, Portugal'.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. Europe/Lisbon.")
@click.option("--language", default="en", show_default=True, help="Language tag the agent writes in.")
@click.option("--active-hours", default="08:00-23:00", show_default=True, help="Waking hours, local: HH:MM-HH:MM.")
@click.option("--model", help="provider/model-id (default: the server's default provider).")
def agent_create(settings: Settings, account: str, active_hours: str, **fields: Any) -> None:
    """Create an agent, validated exactly as POST /api/v1/agents does, and print it as JSON.

    \b
    Example:
        novaro-lite agent create --name Lena --timezone Europe/Berlin --persona "A baker in Kreuzberg"
    """
    start, _, end = active_hours.partition("-")
    try:
        request = AgentCreate.model_validate({**fields, "activeHours": {"start": start, "end": end}})
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise click.ClickException(f"Invalid agent: {where}: {first['msg'].removeprefix('Value error, ')}") from None
    try:
        check_model(settings, request.model)
    except ValueError as exc:
        raise click.ClickException(f"Invalid agent: model: {exc}") from None
    created = _run_with_storage(settings, lambda storage: storage.agents.create(account, request.to_fields()))
    _print_agent_json(AgentOut.of(created))


@agent.command("list")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Whose agents to list.")
def agent_list(settings: Settings, account: str) -> None:
    """List an account's agents: id, name, time zone, active hours, model."""

    async def every_agent(storage: Storage) -> list[Agent]:
        page = await storage.agents.list(account, limit=200)
        found = page.items
        while page.next_cursor:
            page = await storage.agents.list(account, limit=200, cursor=page.next_cursor)
            found += page.items
        return found

    agents = _run_with_storage(settings, every_agent)
    _echo_table(
        ("ID", "NAME", "TIMEZONE", "ACTIVE", "MODEL"),
        [(a.id, a.name, a.timezone, f"{a.active_hours.start}-{a.active_hours.end}", a.model or "-") for a in agents],
    )


@agent.command("show")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the agent.")
@click.argument("agent_id")
def agent_show(settings: Settings, account: str, agent_id: str) -> None:
    """Print one agent as JSON."""

    async def show(storage: Storage) -> Agent:
        return storage.agents.get(account, agent_id)

    _print_agent_json(AgentOut.of(_run_with_storage(settings, show)))


@agent.command("delete")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the agent.")
@click.argument("agent_id")
def agent_delete(settings: Settings, account: str, agent_id: str) -> None:
    """Delete an agent."""
    _run_with_storage(settings, lambda storage: storage.agents.delete(account, agent_id))
    click.echo(f"Deleted agent {agent_id}.")
