"""`novaro-lite context`: create, list, show and delete contexts."""

from __future__ import annotations

import json
from pathlib import Path

import click

from novaro_lite.api.schemas.contexts import ContextCreate, ContextOut
from novaro_lite.cli.common import (
    DEFAULT_ACCOUNT,
    echo_table,
    read_text,
    run_with_storage,
    settings_options,
    validated,
    when,
)
from novaro_lite.cli.terminal import say
from novaro_lite.config.settings import Settings
from novaro_lite.domain.contexts import DEFAULT_SCAN_DEPTH, SCAN_DEPTH_MAX, Context
from novaro_lite.storage.paging import Listing
from novaro_lite.storage.store import Storage


@click.group()
def context() -> None:
    """Create, list, show and delete contexts: named background text for agents."""


def _echo_json(found: Context) -> None:
    say(json.dumps(ContextOut.of(found).model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))


@context.command("create")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the context.")
@click.option("--name", required=True, help="What the context is, e.g. 'Menu' or 'Opening hours'.")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the content from this file (default: standard input).",
)
@click.option(
    "--key", "keys", multiple=True, help="Only in the prompt when this occurs in the recent messages (repeatable)."
)
@click.option(
    "--secondary-key",
    "secondary_keys",
    multiple=True,
    help="With --selective, one of these must occur as well (repeatable).",
)
@click.option("--case-sensitive", is_flag=True, help="Match keys with case.")
@click.option("--selective", is_flag=True, help="Also require a secondary key.")
@click.option(
    "--scan-depth",
    type=click.IntRange(1, SCAN_DEPTH_MAX),
    default=DEFAULT_SCAN_DEPTH,
    show_default=True,
    help="How many of the last messages are searched for keys.",
)
def context_create(
    settings: Settings,
    account: str,
    name: str,
    path: Path | None,
    keys: tuple[str, ...],
    secondary_keys: tuple[str, ...],
    case_sensitive: bool,
    selective: bool,
    scan_depth: int,
) -> None:
    """Create a context from a file or standard input and print it as JSON.

    With --key it is a keyword context: in the prompt only when a key occurs in the recent messages.

    \b
    Example:
        novaro-lite context create --name Menu --file menu.md
        novaro-lite context create --name Prices --file prices.md --key price --key "how much"
    """
    content = read_text(path, f"The file {path}" if path else "Standard input")
    fields = {"keys": list(keys), "caseSensitive": case_sensitive, "secondaryKeys": list(secondary_keys)}
    fields |= {"selective": selective, "scanDepth": scan_depth}
    body = validated(ContextCreate, {"name": name, "content": content, **fields}, "context")
    keywords = body.keywords()
    _echo_json(
        run_with_storage(settings, lambda storage: storage.contexts.create(account, body.name, body.content, keywords))
    )


@context.command("list")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Whose contexts to list.")
def context_list(settings: Settings, account: str) -> None:
    """List an account's contexts: id, name, size, updated."""
    found = run_with_storage(settings, lambda storage: storage.contexts.list(account, Listing(200)))
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
        return await storage.contexts.get(account, context_id)

    _echo_json(run_with_storage(settings, show))


@context.command("delete")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the context.")
@click.option("--force", is_flag=True, help="Detach it from every agent that has it, then delete it.")
@click.argument("context_id")
def context_delete(settings: Settings, account: str, force: bool, context_id: str) -> None:
    """Delete a context (refused while agents have it, unless --force)."""
    run_with_storage(settings, lambda storage: storage.contexts.delete(account, context_id, force=force))
    say(f"Deleted context {context_id}.")
