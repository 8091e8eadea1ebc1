"""`novaro-lite check-in`: schedule, list and cancel check-ins (messages an agent writes first)."""

from __future__ import annotations

import json

import click

from novaro_lite.api.check_ins import schedule
from novaro_lite.api.schemas.check_ins import CheckInCreate, CheckInOut
from novaro_lite.cli.common import DEFAULT_ACCOUNT, echo_table, run_with_storage, settings_options, validated, when
from novaro_lite.cli.terminal import CliError, say
from novaro_lite.config.settings import Settings
from novaro_lite.domain.requests import STATUSES, MessageRequest, Status
from novaro_lite.domain.tokens import parse_duration
from novaro_lite.storage.paging import Listing
from novaro_lite.storage.store import Storage


@click.group("check-in")
def check_in() -> None:
    """Schedule, list and cancel check-ins: messages an agent writes first, at a drawn human moment."""


def _print_json(found: MessageRequest) -> None:
    say(json.dumps(CheckInOut.of(found).model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))


def _bound(text: str) -> int | str:
    """Seconds (`3600`), a duration (`90m`, `1d`) from now, or an RFC 3339 time left for the schema to read."""
    if text.isascii() and text.isdigit():  # isdigit alone takes "²", which int() refuses
        return int(text)
    try:
        return parse_duration(text)
    except ValueError:
        return text


def _message(text: str) -> dict[str, str]:
    role, colon, content = text.partition(":")
    if not colon or role not in ("user", "assistant"):
        raise CliError(f"Invalid check-in: message {text!r}: write it as user:TEXT or assistant:TEXT.")
    return {"role": role, "content": content}


@check_in.command("create")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the agent.")
@click.option("--agent", "agent_id", required=True, help="The agent who writes first.")
@click.option("--webhook", "webhook_id", required=True, help="The webhook the check-in is delivered to.")
@click.option("--conversation", "conversation_id", required=True, help="Your id of the chat to write in.")
@click.option("--reference", required=True, help="Yours; sent back with the check-in.")
@click.option("--topic", help="What to bring up, e.g. 'ask how the exam went'.")
@click.option("--after", default="0", show_default=True, help="Not before: seconds, a duration (2h) or a time.")
@click.option("--before", default="1d", show_default=True, help="Not after: seconds, a duration (1d) or a time.")
@click.option("--timezone", help="The user's time zone (default: the agent's).")
@click.option("--quiet-hours", help="The user's quiet hours, HH:MM-HH:MM (default: [check_ins] default_quiet_hours).")
@click.option("--message", "messages", multiple=True, help="Recent history, oldest first: user:TEXT (repeatable).")
def check_in_create(
    settings: Settings,
    account: str,
    agent_id: str,
    webhook_id: str,
    conversation_id: str,
    reference: str,
    topic: str | None,
    after: str,
    before: str,
    timezone: str | None,
    quiet_hours: str | None,
    messages: tuple[str, ...],
) -> None:
    """Schedule a check-in, validated and drawn exactly as POST /api/v1/check-ins does, and print it as JSON.

    A running server sees it at its next safety sweep ([delivery] sweep_seconds).

    \b
    Example:
        novaro-lite check-in create --agent agt_01… --webhook whk_01… --conversation user-42 \\
            --reference exam-followup --topic "ask how the exam went" --after 1h --before 1d \\
            --timezone Europe/Paris --message "user:Exam tomorrow, wish me luck"
    """
    body: dict[str, object] = {
        "agentId": agent_id,
        "webhookId": webhook_id,
        "conversationId": conversation_id,
        "reference": reference,
        "topic": topic,
        "window": {"after": _bound(after), "before": _bound(before)},
        "timezone": timezone,
        "messages": [_message(text) for text in messages],
    }
    if quiet_hours is not None:
        start, _, end = quiet_hours.partition("-")
        body["quietHours"] = {"start": start, "end": end}
    request = validated(CheckInCreate, body, "check-in")
    stored: list[MessageRequest] = []

    def accepted(check_in: MessageRequest) -> str:
        stored.append(check_in)
        return ""

    run_with_storage(
        settings, lambda storage: schedule(storage, settings, account, request, storage.now(), accepted=accepted)
    )
    _print_json(stored[0])


@check_in.command("list")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Whose check-ins to list.")
@click.option("--agent", "agent_id", help="Only this agent's.")
@click.option("--conversation", "conversation_id", help="Only this conversation's.")
@click.option("--status", type=click.Choice(STATUSES), help="Only check-ins in this state.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True, help="How many, oldest first.")
def check_in_list(
    settings: Settings,
    account: str,
    agent_id: str | None,
    conversation_id: str | None,
    status: Status | None,
    limit: int,
) -> None:
    """List check-ins: id, status, when (the drawn moment), agent, conversation, topic, why canceled.

    \b
    Example:
        novaro-lite check-in list --status scheduled --agent agt_01…
    """

    async def some(storage: Storage) -> list[MessageRequest]:
        page = await storage.check_ins.list(
            account, Listing(limit), status=status, agent_id=agent_id, conversation_id=conversation_id
        )
        return page.items

    echo_table(
        ("ID", "STATUS", "SCHEDULED FOR", "AGENT", "CONVERSATION", "TOPIC", "CANCELED"),
        [
            (
                c.id,
                c.status,
                when(c.scheduled_for),
                c.agent_id,
                c.conversation_id or "-",
                c.topic or "-",
                c.canceled_reason or "-",
            )
            for c in run_with_storage(settings, some)
        ],
    )


@check_in.command("cancel")
@settings_options
@click.option("--account", default=DEFAULT_ACCOUNT, show_default=True, help="Account that owns the check-in.")
@click.argument("check_in_id")
def check_in_cancel(settings: Settings, account: str, check_in_id: str) -> None:
    """Cancel a check-in that has not been written yet, and print it as JSON."""
    _print_json(run_with_storage(settings, lambda storage: storage.check_ins.cancel(account, check_in_id)))
