"""`novaro-lite agent`: create, list, show and delete agents."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import click
import pydantic

from novaro_lite.api.agent_batches import generate_agents
from novaro_lite.api.cards import create_from_card, export_card, export_png
from novaro_lite.api.schemas.agent_batches import GenerateAgents
from novaro_lite.api.schemas.agents import AgentCreate, AgentOut
from novaro_lite.cli.common import (
    DEFAULT_ACCOUNT,
    echo_table,
    read_text,
    run_with_storage,
    settings_options,
    validated,
    write_bytes,
)
from novaro_lite.cli.terminal import CliError, say
from novaro_lite.config.settings import Settings
from novaro_lite.domain.agents import Agent
from novaro_lite.domain.cards import MAX_CARD_BYTES
from novaro_lite.outbound.client import build_http_client
from novaro_lite.outbound.upstream import build_upstream
from novaro_lite.providers.registry import build_providers, check_model
from novaro_lite.services import Services
from novaro_lite.storage.store import Storage


@click.group()
def agent() -> None:
    """Create, list, show and delete agents."""


def _print_agent_json(agent: AgentOut) -> None:
    say(json.dumps(agent.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))


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
@click.option("--context", "context_ids", multiple=True, help="A context id the agent always knows (repeatable).")
def agent_create(
    settings: Settings, account: str, active_hours: str, context_ids: tuple[str, ...], **fields: Any
) -> None:
    """Create an agent, validated exactly as POST /api/v1/agents does, and print it as JSON.

    \b
    Example:
        novaro-lite agent create --name Lena --timezone Europe/Berlin --persona "A baker in Kreuzberg"
    """
    start, _, end = active_hours.partition("-")
    body = {**fields, "activeHours": {"start": start, "end": end}, "contextIds": list(context_ids)}
    request = validated(AgentCreate, body, "agent")
    try:
        check_model(settings, request.model)
    except ValueError as exc:
        raise CliError(f"Invalid agent: model: {exc}") from None

    async def create(storage: Storage) -> Agent:
        unknown = await storage.contexts.unknown(account, request.context_ids)
        if unknown:
            raise CliError(f"Invalid agent: there is no context with id {unknown[0]!r}.")
        return await storage.agents.create(account, request.to_fields())

    _print_agent_json(AgentOut.of(run_with_storage(settings, create)))


@agent.command("list")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Whose agents to list.")
def agent_list(settings: Settings, account: str) -> None:
    """List an account's agents: id, name, time zone, active hours, model."""

    agents = run_with_storage(settings, lambda storage: storage.agents.every(account))
    echo_table(
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
        return await storage.agents.get(account, agent_id)

    _print_agent_json(AgentOut.of(run_with_storage(settings, show)))


@agent.command("delete")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the agent.")
@click.argument("agent_id")
def agent_delete(settings: Settings, account: str, agent_id: str) -> None:
    """Delete an agent."""
    run_with_storage(settings, lambda storage: storage.agents.delete(account, agent_id))
    say(f"Deleted agent {agent_id}.")


@agent.command("import")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the agent.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agent_import(settings: Settings, account: str, file: Path) -> None:
    """Create an agent from a Character Card V1/V2/V3 (JSON, a PNG carrying one, or a CHARX); print it as JSON.

    Lorebook entries become contexts and the card's picture is kept, as with POST /api/v1/agents/import.

    \b
    Example:
        novaro-lite agent import mira.png
    """
    try:
        with file.open("rb") as opened:  # read to the limit only: a device (/dev/zero) says its size is 0
            raw = opened.read(MAX_CARD_BYTES + 1)
    except OSError as exc:
        raise CliError(f"{file} cannot be read: {exc.strerror}.") from None
    if len(raw) > MAX_CARD_BYTES:
        raise CliError(f"{file} is larger than the {MAX_CARD_BYTES:,} bytes a card may have.")
    _print_agent_json(
        AgentOut.of(
            run_with_storage(
                settings,
                lambda storage: create_from_card(storage, account, raw, picture_limit=settings.avatar_max_bytes),
            )
        )
    )


@agent.command("export")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the agent.")
@click.option("--png", "as_png", is_flag=True, help="A PNG carrying the card (V2 and V3 chunks) instead of JSON.")
@click.option("--v2", "as_v2", is_flag=True, help="A Character Card V2 instead of V3 (JSON only).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@click.argument("agent_id")
def agent_export(
    settings: Settings, account: str, as_png: bool, as_v2: bool, output: Path | None, agent_id: str
) -> None:
    """Export an agent as a Character Card V3 (JSON), with its contexts as the lorebook.

    \b
    Example:
        novaro-lite agent export agt_01hx... --png -o lena.png
    """

    async def export(storage: Storage) -> bytes:
        if as_png:
            return (await export_png(storage, account, agent_id))[1]
        card = (await export_card(storage, account, agent_id, spec="v2" if as_v2 else "v3"))[1]
        return (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    data = run_with_storage(settings, export)
    if output is None:
        click.echo(data, nl=False)  # click writes bytes to the binary stream
        return
    write_bytes(output, data)
    say(f"Wrote {output} ({len(data):,} bytes).", err=True)


def _read_data(path: Path) -> Any:
    """The material a batch should reflect: the file's JSON, or its text when it is not JSON (CSV, prose)."""
    text = read_text(path, f"The data file {path}")
    try:
        return json.loads(text)
    except ValueError:
        return text


@agent.command("generate")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the agents.")
@click.option("--count", type=click.IntRange(1, 50), required=True, help="How many agents (all or none).")
@click.option("--description", required=True, help="What kind of people to create.")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of your own material (text, CSV or JSON) the personas should reflect.",
)
@click.option("--model", help="provider/model-id that writes them (default: the server's default provider).")
@click.option("--json", "as_json", is_flag=True, help="Print the created agents as JSON.")
def agent_generate(
    settings: Settings,
    account: str,
    count: int,
    description: str,
    data_path: Path | None,
    model: str | None,
    as_json: bool,
) -> None:
    """Have the model write a batch of agents, validated like `agent create`, and create them all at once.

    \b
    Example:
        novaro-lite agent generate --count 5 --description "regulars of a Lisbon bakery" --data customers.csv
    """
    data = None if data_path is None else _read_data(data_path)
    try:
        request = GenerateAgents.model_validate(
            {"count": count, "description": description, "data": data, "model": model}
        )
        check_model(settings, request.model)
    except (pydantic.ValidationError, ValueError) as exc:
        raise CliError(f"Invalid request: {exc}") from None

    async def create(storage: Storage) -> list[Agent]:
        async with (
            contextlib.aclosing(build_upstream(proxies=settings.provider_proxies)) as upstream,
            build_http_client() as http,
        ):
            services = Services(
                settings=settings,
                storage=storage,
                clock=time.time,
                providers=build_providers(settings, upstream),
                webhook_http=http,  # no webhook is called from here
                wake=lambda _: None,
            )
            return await storage.agents.create_many(account, await generate_agents(services, request))

    created = run_with_storage(settings, create)
    if as_json:
        say(
            json.dumps(
                [AgentOut.of(a).model_dump(mode="json", by_alias=True) for a in created], indent=2, ensure_ascii=False
            )
        )
        return
    echo_table(
        ("ID", "NAME", "LOCATION", "TIMEZONE", "ACTIVE"),
        [
            (a.id, a.name, a.location or "-", a.timezone, f"{a.active_hours.start}-{a.active_hours.end}")
            for a in created
        ],
    )
