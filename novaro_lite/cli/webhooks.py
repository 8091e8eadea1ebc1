"""`novaro-lite webhook`: create, list, delete webhooks and rotate their secrets."""

from __future__ import annotations

import click

from novaro_lite.api.schemas.webhooks import WebhookCreate
from novaro_lite.cli.common import DEFAULT_ACCOUNT, echo_table, run_with_storage, settings_options, validated
from novaro_lite.cli.terminal import CliError, say
from novaro_lite.config.settings import Settings
from novaro_lite.domain.webhooks import Webhook
from novaro_lite.outbound.targets import TargetRefusedError, check_target
from novaro_lite.storage.paging import Listing
from novaro_lite.storage.store import Storage


@click.group()
def webhook() -> None:
    """Create, list, delete webhooks and rotate their secrets."""


@webhook.command("create")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the webhook.")
@click.option("--url", required=True, help="Where replies are POSTed.")
@click.option("--description", default="", help="What the webhook is for.")
def webhook_create(settings: Settings, account: str, url: str, description: str) -> None:
    """Create a webhook and print its signing secret once.

    \b
    Example:
        novaro-lite webhook create --url https://example.com/novaro-hook
    """

    body = validated(WebhookCreate, {"url": url, "description": description}, "webhook")

    async def create(storage: Storage) -> Webhook:
        try:
            await check_target(body.url, settings.webhooks.policy)
        except TargetRefusedError as exc:
            raise CliError(str(exc)) from None
        return await storage.webhooks.create(account, body.url, body.description, True)

    created = run_with_storage(settings, create)
    say(f"{created.id} {created.secret}")
    say("The secret (whsec_…) is shown only this once; receivers verify signatures with it.", err=True)


@webhook.command("list")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Whose webhooks to list.")
def webhook_list(settings: Settings, account: str) -> None:
    """List an account's webhooks: id, url, enabled, description."""
    found = run_with_storage(settings, lambda storage: storage.webhooks.list(account, Listing(200)))
    echo_table(
        ("ID", "URL", "ENABLED", "DESCRIPTION"),
        [
            (w.id, w.url, "yes" if w.enabled else f"no ({w.disabled_reason or 'by its owner'})", w.description)
            for w in found.items
        ],
    )


@webhook.command("delete")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the webhook.")
@click.argument("webhook_id")
def webhook_delete(settings: Settings, account: str, webhook_id: str) -> None:
    """Delete a webhook; its pending requests fail when they come due."""
    run_with_storage(settings, lambda storage: storage.webhooks.delete(account, webhook_id))
    say(f"Deleted webhook {webhook_id}.")


@webhook.command("rotate")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the webhook.")
@click.argument("webhook_id")
def webhook_rotate(settings: Settings, account: str, webhook_id: str) -> None:
    """Give a webhook a new secret and print it once; the old one keeps signing for 24 hours."""
    rotated = run_with_storage(settings, lambda storage: storage.webhooks.rotate_secret(account, webhook_id))
    say(rotated.secret)
