"""`novaro-lite context`: create, list, show and delete contexts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from novaro_lite.api.context_schemas import ContextOut
from novaro_lite.commands.common import DEFAULT_ACCOUNT, echo_table, run_with_storage, settings_options, when
from novaro_lite.config import Settings
from novaro_lite.domain.contexts import CONTENT_MAX, NAME_MAX, Context
from novaro_lite.storage.store import Storage


@click.group()
def context() -> None:
    """Create, list, show and delete contexts: named background text for agents."""


def _echo_json(found: Context) -> None:
    click.echo(json.dumps(ContextOut.of(found).model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))


@context.command("create")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the context.")
@click.option("--name", required=True, help="What the context is, e.g. 'Menu' or 'Opening hours'.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the content from this file (default: standard input).")  # fmt: skip
def context_create(settings: Settings, account: str, name: str, path: Path | None) -> None:
    """Create a context from a file or standard input and print it as JSON.

    \b
    Example:
        novaro-lite context create --name Menu --file menu.md
    """
    content = path.read_text(encoding="utf-8") if path else sys.stdin.read()
    if not 1 <= len(name) <= NAME_MAX:
        raise click.BadParameter(f"give 1 to {NAME_MAX} characters", param_hint="--name")
    if len(content) > CONTENT_MAX:
        raise click.ClickException(
            f"The content has {len(content):,} characters; a context holds at most {CONTENT_MAX:,}."
        )
    _echo_json(run_with_storage(settings, lambda storage: storage.contexts.create(account, name, content)))


@context.command("list")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Whose contexts to list.")
def context_list(settings: Settings, account: str) -> None:
    """List an account's contexts: id, name, size, updated."""
    found = run_with_storage(settings, lambda storage: storage.contexts.list(account, limit=200))
    echo_table(
        ("ID", "NAME", "CHARACTERS", "UPDATED"),
        [(c.id, c.name, f"{len(c.content):,}", when(c.updated_at)) for c in found.items],
    )


@context.command("show")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the context.")
@click.argument("context_id")
def context_show(settings: Settings, account: str, context_id: str) -> None:
    """Print one context as JSON."""

    async def show(storage: Storage) -> Context:
        return storage.contexts.get(account, context_id)

    _echo_json(run_with_storage(settings, show))


@context.command("delete")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the context.")
@click.option("--force", is_flag=True, help="Detach it from every agent that has it, then delete it.")
@click.argument("context_id")
def context_delete(settings: Settings, account: str, force: bool, context_id: str) -> None:
    """Delete a context (refused while agents have it, unless --force)."""
    run_with_storage(settings, lambda storage: storage.contexts.delete(account, context_id, force=force))
    click.echo(f"Deleted context {context_id}.")
