"""`novaro-lite group`: create, list, show and delete groups of agents."""

from __future__ import annotations

import json

import click

from novaro_lite.api.schemas.groups import GroupCreate, GroupOut
from novaro_lite.cli.common import DEFAULT_ACCOUNT, echo_table, run_with_storage, settings_options, validated
from novaro_lite.cli.terminal import CliError, say
from novaro_lite.config.settings import Settings
from novaro_lite.domain.groups import DEFAULT_MAX_AGENT_TURNS, STRATEGIES, Group
from novaro_lite.storage.paging import Listing
from novaro_lite.storage.store import Storage


@click.group()
def group() -> None:
    """Create, list, show and delete groups of agents."""


def _print_group_json(found: Group) -> None:
    say(json.dumps(GroupOut.of(found).model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))


def _member(text: str) -> dict[str, object]:
    """`agt_…` or `agt_…:80` (its talkativeness)."""
    agent_id, colon, talkativeness = text.partition(":")
    if not colon:
        return {"agentId": agent_id}
    if not (talkativeness.isascii() and talkativeness.isdigit()):
        raise CliError(f"Invalid group: member {text!r}: its talkativeness is a whole number 0-100 (AGENT_ID:80).")
    return {"agentId": agent_id, "talkativeness": int(talkativeness)}


@group.command("create")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the group.")
@click.option("--name", required=True, help="The group's name.")
@click.option(
    "--member",
    "members",
    multiple=True,
    required=True,
    help="An agent id, optionally with its talkativeness 0-100: agt_…:80 (repeatable, 2-10 members).",
)
@click.option("--strategy", type=click.Choice(STRATEGIES), default="natural", show_default=True, help="Who answers.")
@click.option(
    "--max-agent-turns",
    type=int,
    default=DEFAULT_MAX_AGENT_TURNS,
    show_default=True,
    help="Agent messages per message.",
)
def group_create(
    settings: Settings, account: str, name: str, members: tuple[str, ...], strategy: str, max_agent_turns: int
) -> None:
    """Create a group, validated exactly as POST /api/v1/groups does, and print it as JSON.

    \b
    Example:
        novaro-lite group create --name Flatmates --member agt_01…:80 --member agt_02…
    """
    body = {
        "name": name,
        "members": [_member(text) for text in members],
        "strategy": strategy,
        "maxAgentTurns": max_agent_turns,
    }
    fields = validated(GroupCreate, body, "group").fields()

    async def create(storage: Storage) -> Group:
        unknown = await storage.groups.unknown_agents(account, [member.agent_id for member in fields.members])
        if unknown:
            raise CliError(f"Invalid group: there is no agent with id {unknown[0]!r}.")
        return await storage.groups.create(account, fields)

    _print_group_json(run_with_storage(settings, create))


@group.command("list")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Whose groups to list.")
def group_list(settings: Settings, account: str) -> None:
    """List an account's groups: id, name, strategy, turn limit, members."""

    async def every_group(storage: Storage) -> list[Group]:
        page = await storage.groups.list(account, Listing(200))
        found = page.items
        while page.next_cursor:
            page = await storage.groups.list(account, Listing(200, page.next_cursor))
            found += page.items
        return found

    echo_table(
        ("ID", "NAME", "STRATEGY", "TURNS", "MEMBERS"),
        [
            (g.id, g.name, g.strategy, str(g.max_agent_turns), " ".join(m.agent_id for m in g.members) or "-")
            for g in run_with_storage(settings, every_group)
        ],
    )


@group.command("show")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the group.")
@click.argument("group_id")
def group_show(settings: Settings, account: str, group_id: str) -> None:
    """Print one group as JSON."""

    async def show(storage: Storage) -> Group:
        return await storage.groups.get(account, group_id)

    _print_group_json(run_with_storage(settings, show))


@group.command("delete")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the group.")
@click.argument("group_id")
def group_delete(settings: Settings, account: str, group_id: str) -> None:
    """Delete a group (its agents stay)."""
    run_with_storage(settings, lambda storage: storage.groups.delete(account, group_id))
    say(f"Deleted group {group_id}.")
