"""The novaro-lite command: `serve`, and the command groups beside it in cli/."""

from __future__ import annotations

import click

from novaro_lite import __version__
from novaro_lite.cli import agents, bench, check_ins, contexts, db, groups, listen, requests, tokens, webhooks
from novaro_lite.cli.common import DEFAULT_ACCOUNT, run_with_storage, settings_options
from novaro_lite.cli.serving import serve as run_server
from novaro_lite.cli.terminal import say
from novaro_lite.config.settings import MAX_WORKERS, Settings
from novaro_lite.observability.logs import configure_logging
from novaro_lite.storage.store import Storage


@click.group()
@click.version_option(__version__, prog_name="novaro-lite")
def main() -> None:
    """novaro-lite: a self-hostable server for AI persona agents."""


@main.command()
@settings_options
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on; 0 picks a free one (default 8080).")
@click.option(
    "--workers",
    type=int,
    help=f"Server processes sharing the port, 1-{MAX_WORKERS}; each serves HTTP and delivers (default 1).",
)
def serve(settings: Settings) -> None:
    """Run the API server.

    On a first start with no tokens in the database, one is created and printed once. With --workers N,
    N processes share the port and the database, so realtime traffic can use N cores.

    \b
    Example:
        novaro-lite serve --port 8080 --data-dir ./data
        novaro-lite serve --workers 2
    """
    configure_logging(settings.log_level, settings.log_format)

    async def first_token(storage: Storage) -> str | None:
        created = await storage.tokens.create_first("first-start", DEFAULT_ACCOUNT)
        return None if created is None else created[1]

    secret = run_with_storage(settings, first_token)
    if secret is not None:
        say(f"Created the first API token (shown only this once): {secret}")
        port = settings.port or "<port>"
        say(f"Use it: curl -H 'Authorization: Bearer {secret}' http://{settings.host}:{port}/api/v1/auth/verify")
    run_server(settings)  # the token exists before any worker starts, so no two workers race to make one


for group in (
    tokens.token,
    agents.agent,
    groups.group,
    check_ins.check_in,
    contexts.context,
    webhooks.webhook,
    requests.requests,
    listen.listen,
    db.db,
    bench.bench,
):
    main.add_command(group)
