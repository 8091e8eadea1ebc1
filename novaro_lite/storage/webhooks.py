"""Webhook storage: URLs and their signing secrets, by account; disabling pauses their requests."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from novaro_lite.domain.ids import new_id
from novaro_lite.domain.requests import PAUSED
from novaro_lite.domain.webhooks import ROTATION_OVERLAP_SECONDS, Webhook, new_secret
from novaro_lite.errors import NotFoundError
from novaro_lite.storage.database import Database, Row, Transaction
from novaro_lite.storage.paging import Listing, Page, select_page
from novaro_lite.storage.requests import PURGE_SQL

COLUMNS = tuple(field.name for field in dataclasses.fields(Webhook))
HEALTH_WRITE_INTERVAL = 60  # seconds; a healthy webhook's last success is refreshed at most this often
_SELECT = f"SELECT seq, {', '.join(COLUMNS)} FROM webhooks"


def _webhook(row: Row) -> Webhook:
    values = {name: row[name] for name in COLUMNS}
    return Webhook(**values | {"enabled": bool(values["enabled"]), "events": tuple(json.loads(values["events"]))})


def _column(name: str, value: Any) -> Any:
    return json.dumps(list(value)) if name == "events" else value


def _not_found(webhook_id: str) -> NotFoundError:
    return NotFoundError(f"There is no webhook with id {webhook_id!r}.")


class WebhookStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self, account: str, url: str, description: str, enabled: bool, events: tuple[str, ...] = ("reply",)
    ) -> Webhook:
        now = self._db.now()
        webhook = Webhook(
            id=new_id("whk", now),
            account=account,
            url=url,
            description=description,
            enabled=enabled,
            disabled_reason=None,
            secret=new_secret(),
            previous_secret=None,
            previous_secret_until=None,
            created_at=now,
            updated_at=now,
            events=events,
        )
        async with self._db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO webhooks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                tuple(_column(name, getattr(webhook, name)) for name in COLUMNS),
            )
        return webhook

    async def get(self, account: str, webhook_id: str) -> Webhook:
        row = await self._db.one(f"{_SELECT} WHERE account = ? AND id = ?", (account, webhook_id))
        if row is None:
            raise _not_found(webhook_id)
        return _webhook(row)

    async def list(self, account: str, listing: Listing) -> Page[Webhook]:
        """A page of the account's webhooks whose URL or description contains `listing.q`, in creation order."""
        return await select_page(
            self._db,
            "webhooks",
            ", ".join(COLUMNS),
            "account = ?",
            (account,),
            listing,
            _webhook,
            search=("url", "description"),
        )

    async def paused_counts(self, webhook_ids: Sequence[str]) -> dict[str, int]:
        """How many requests wait, paused, for each of these webhooks to be enabled again."""
        if not webhook_ids:
            return {}
        rows = await self._db.read(
            f"SELECT webhook_id, count(*) FROM message_requests WHERE status = '{PAUSED}'"
            f" AND webhook_id IN ({', '.join('?' * len(webhook_ids))}) GROUP BY webhook_id",
            tuple(webhook_ids),
        )
        return {row[0]: row[1] for row in rows}

    async def update(self, account: str, webhook_id: str, changes: dict[str, Any]) -> Webhook:
        """Change url, description or enabled.

        Disabling pauses the webhook's waiting requests (content kept); enabling clears the reason it was
        disabled and puts its paused requests back in the queue at their own due times, so the oldest go first;
        its health starts afresh (failures before it was disabled no longer count). No changes write nothing.
        """
        if not changes:
            return await self.get(account, webhook_id)
        changes = dict(changes)
        async with self._db.transaction() as tx:
            webhook = await _locked(tx, account, webhook_id)
            if changes.get("enabled"):
                changes["disabled_reason"] = None
                if not webhook.enabled:
                    changes |= {"failing_since": None, "consecutive_failures": 0}
            changes["updated_at"] = now = self._db.now()
            await tx.execute(
                f"UPDATE webhooks SET {', '.join(f'{column} = ?' for column in changes)} WHERE id = ?",
                (*(_column(name, value) for name, value in changes.items()), webhook.id),
            )
            if changes.get("enabled") is True:
                await tx.execute(
                    f"UPDATE message_requests SET status = 'scheduled', updated_at = ?"
                    f" WHERE webhook_id = ? AND status = '{PAUSED}'",
                    (now, webhook.id),
                )
            elif changes.get("enabled") is False:
                await _pause(tx, webhook.id, now)
        return dataclasses.replace(webhook, **changes)

    async def rotate_secret(self, account: str, webhook_id: str) -> Webhook:
        """Give the webhook a new secret; the old one keeps signing for ROTATION_OVERLAP_SECONDS.

        Read and written in one transaction, so of two concurrent rotations the second keeps the first's
        new secret as its previous one, and both callers' secrets sign.
        """
        now = self._db.now()
        async with self._db.transaction() as tx:
            webhook = await _locked(tx, account, webhook_id)
            rotated = dataclasses.replace(
                webhook,
                secret=new_secret(),
                previous_secret=webhook.secret,
                previous_secret_until=now + ROTATION_OVERLAP_SECONDS,
                updated_at=now,
            )
            await tx.execute(
                "UPDATE webhooks SET secret = ?, previous_secret = ?, previous_secret_until = ?, updated_at = ?"
                " WHERE id = ?",
                (rotated.secret, rotated.previous_secret, rotated.previous_secret_until, now, webhook.id),
            )
        return rotated

    async def disable(self, webhook_id: str, reason: str) -> None:
        """Disable a webhook on the server's own account (the receiver answered 410); its requests pause."""
        now = self._db.now()
        async with self._db.transaction() as tx:
            await tx.lock(f"webhook:{webhook_id}")  # as enabling takes it: the two never interleave
            await tx.execute(
                "UPDATE webhooks SET enabled = FALSE, disabled_reason = ?, updated_at = ? WHERE id = ?",
                (reason, now, webhook_id),
            )
            await _pause(tx, webhook_id, now)

    async def record_success(self, webhook: Webhook, now: int) -> None:
        """Note a 2xx answer: the webhook is healthy again (written at most once a minute while healthy)."""
        if (
            webhook.consecutive_failures == 0
            and webhook.last_success_at is not None
            and now - webhook.last_success_at < HEALTH_WRITE_INTERVAL
        ):
            return
        # Its own transaction, not the group commit: a webhook's row is shared by every process delivering to
        # it, and two batches that update shared rows in different orders could deadlock.
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE webhooks SET last_success_at = ?, failing_since = NULL, consecutive_failures = 0 WHERE id = ?",
                (now, webhook.id),
            )

    async def record_failure(self, webhook_id: str, now: int, disable_after: int | None, reason: str) -> bool:
        """Note a failed attempt; once the webhook has only failed for `disable_after` seconds, disable it with
        `reason` and pause its waiting requests, like any disabled webhook's. Return whether this call did."""
        async with self._db.transaction() as tx:
            await tx.lock(f"webhook:{webhook_id}")
            await tx.execute(
                "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1,"
                " failing_since = coalesce(failing_since, ?) WHERE id = ?",
                (now, webhook_id),
            )
            if not disable_after:
                return False
            disabled = await tx.execute(
                "UPDATE webhooks SET enabled = FALSE, disabled_reason = ?, updated_at = ?"
                " WHERE id = ? AND enabled = TRUE AND failing_since <= ?",
                (reason, now, webhook_id, now - disable_after),
            )
            if disabled != 1:
                return False
            await _pause(tx, webhook_id, now)
        return True

    async def delete(self, account: str, webhook_id: str) -> None:
        """Delete a webhook; every request of it that has not ended fails at once, its content erased with it,
        and its recurring check-in rules end (their check-ins could never be delivered).

        That includes requests being generated or delivered right now: whatever their delivery then records
        (a retry, a pause) needs a pending status, so it cannot bring them back.
        """
        async with self._db.transaction() as tx:
            deleted = await tx.execute("DELETE FROM webhooks WHERE account = ? AND id = ?", (account, webhook_id))
            if deleted:
                await tx.execute(
                    f"UPDATE message_requests SET status = 'failed', {PURGE_SQL},"
                    " last_error = 'The webhook was deleted before the reply was delivered.', updated_at = ?"
                    f" WHERE webhook_id = ? AND status IN ('scheduled', 'generating', 'delivering', '{PAUSED}')",
                    (self._db.now(), webhook_id),
                )
                await tx.execute(
                    "UPDATE check_in_rules SET status = 'ended', updated_at = ?"
                    " WHERE webhook_id = ? AND status = 'active'",
                    (self._db.now(), webhook_id),
                )
        if not deleted:
            raise _not_found(webhook_id)
        self._db.content_purged()


async def _locked(tx: Transaction, account: str, webhook_id: str) -> Webhook:
    """The webhook as it is now, read under its lock (which pause, enable, disable and rotation all take)."""
    await tx.lock(f"webhook:{webhook_id}")
    rows = await tx.fetch(f"{_SELECT} WHERE account = ? AND id = ?", (account, webhook_id))
    if not rows:
        raise _not_found(webhook_id)
    return _webhook(rows[0])


async def _pause(tx: Transaction, webhook_id: str, now: int) -> None:
    """Park a disabled webhook's waiting requests; those in flight pause when their delivery finds it disabled."""
    await tx.execute(
        f"UPDATE message_requests SET status = '{PAUSED}', updated_at = ?"
        " WHERE webhook_id = ? AND status = 'scheduled'",
        (now, webhook_id),
    )
