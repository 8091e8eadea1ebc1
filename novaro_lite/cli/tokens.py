"""`novaro-lite token`: create, list and revoke API tokens."""

from __future__ import annotations

import unicodedata

import click

from novaro_lite.api.schemas.tokens import TokenCreate
from novaro_lite.cli.common import DEFAULT_ACCOUNT, echo_table, run_with_storage, settings_options, validated, when
from novaro_lite.cli.terminal import say
from novaro_lite.config.settings import Settings
from novaro_lite.domain.tokens import MAX_RATE_LIMIT, parse_duration


@click.group()
def token() -> None:
    """Create, list and revoke API tokens."""


def check_account(account: str) -> None:
    """Refuse an account name that could not be told apart when read: accounts differ by every character, so
    `bob ` would be another account than `bob`, with none of its agents."""
    if not account.strip():
        raise click.BadParameter("must have a character other than spaces", param_hint="--account")
    if account != account.strip():
        raise click.BadParameter(f"{account!r} begins or ends with a space; leave it out", param_hint="--account")
    if any(unicodedata.category(character) == "Cc" for character in account):
        raise click.BadParameter(f"{account!r} holds a control character", param_hint="--account")


@token.command("create")
@settings_options
@click.option("--name", required=True, help="What the token is for, e.g. the app that uses it.")
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns what it creates.")
@click.option("--expires-in", help="Lifetime such as 30d, 12h or 2w (default: never expires).")
@click.option(
    "--rate-limit",
    type=click.IntRange(1, MAX_RATE_LIMIT),
    help="Requests a minute this token may make (default: [limits] rate_limit_per_minute).",
)
def token_create(settings: Settings, name: str, account: str, expires_in: str | None, rate_limit: int | None) -> None:
    """Create an API token and print it once; only its hash is stored.

    \b
    Example:
        novaro-lite token create --name my-app --expires-in 30d --rate-limit 600
    """
    check_account(account)
    validated(TokenCreate, {"name": name, "rateLimit": rate_limit}, "token")  # as POST /api/v1/tokens reads them
    try:
        lifetime = None if expires_in is None else parse_duration(expires_in)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires-in") from None
    created, secret = run_with_storage(
        settings, lambda storage: storage.tokens.create(name, account, lifetime, rate_limit)
    )
    say(secret)
    say(f"Created token {created.id} for account {account!r}; it is shown only this once.", err=True)


@token.command("list")
@settings_options
def token_list(settings: Settings) -> None:
    """List tokens: id, name, account, prefix, created, last used, expires, revoked."""
    tokens = run_with_storage(settings, lambda storage: storage.tokens.list())
    echo_table(
        ("ID", "NAME", "ACCOUNT", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "REVOKED"),
        [
            (
                t.id,
                t.name,
                t.account,
                t.prefix + "…",
                when(t.created_at),
                when(t.last_used_at),
                when(t.expires_at),
                when(t.revoked_at),
            )
            for t in tokens
        ],
    )


@token.command("revoke")
@settings_options
@click.argument("token_id")
def token_revoke(settings: Settings, token_id: str) -> None:
    """Revoke a token by id; requests that use it get 401 at once."""
    revoked = run_with_storage(settings, lambda storage: storage.tokens.revoke(token_id))
    say(f"Revoked token {revoked.id} ({revoked.name}).")
