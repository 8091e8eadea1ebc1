"""`novaro-lite requests`: inspect async message requests."""

from __future__ import annotations

import click

from novaro_lite.cli.common import DEFAULT_ACCOUNT, echo_table, run_with_storage, settings_options, when
from novaro_lite.config.settings import Settings
from novaro_lite.domain.requests import STATUSES, Status
from novaro_lite.storage.paging import Listing


@click.group()
def requests() -> None:
    """Inspect async message requests."""


@requests.command("list")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Whose requests to list.")
@click.option("--status", type=click.Choice(STATUSES), help="Only requests in this state.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True, help="How many, oldest first.")
def requests_list(settings: Settings, account: str, status: Status | None, limit: int) -> None:
    """List async message requests: id, status, due, attempts, last error.

    \b
    Example:
        novaro-lite requests list --status failed
    """
    found = run_with_storage(settings, lambda storage: storage.requests.list(account, Listing(limit), status=status))
    echo_table(
        ("ID", "STATUS", "DUE", "ATTEMPTS", "REFERENCE", "LAST ERROR"),
        [
            (r.id, r.status, when(r.scheduled_for), str(r.attempts), r.reference, r.last_error or "-")
            for r in found.items
        ],
    )
