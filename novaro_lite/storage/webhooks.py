"""Webhook storage: URLs and their signing secrets, by account."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

from novaro_lite.domain.ids import new_id
from novaro_lite.domain.webhooks import ROTATION_OVERLAP_SECONDS, Webhook, new_secret
from novaro_lite.errors import NotFoundError
from novaro_lite.storage.database import Database, Page, decode_cursor, page

COLUMNS = tuple(field.name for field in dataclasses.fields(Webhook))
HEALTH_WRITE_INTERVAL = 60  # seconds; a healthy webhook's last success is refreshed at most this often
_SELECT = f"SELECT seq, {', '.join(COLUMNS)} FROM webhooks"


def _webhook(row: sqlite3.Row) -> Webhook:
    values = {name: row[name] for name in COLUMNS}
    return Webhook(**values | {"enabled": bool(values["enabled"])})


def _not_found(webhook_id: str) -> NotFoundError:
    return NotFoundError(f"There is no webhook with id {webhook_id!r}.")


class WebhookStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(self, account: str, url: str, description: str, enabled: bool) -> Webhook:
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
        )
        async with self._db.transaction() as db:
            await db.execute(
                f"INSERT INTO webhooks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                dataclasses.astuple(webhook),
            )
        return webhook

    def get(self, account: str, webhook_id: str) -> Webhook:
        row = self._db.one(f"{_SELECT} WHERE account = ? AND id = ?", (account, webhook_id))
        if row is None:
            raise _not_found(webhook_id)
        return _webhook(row)

    async def list(self, account: str, *, limit: int, cursor: str | None = None) -> Page[Webhook]:
        rows = await self._db.all(
            f"{_SELECT} WHERE account = ? AND seq > ? ORDER BY seq LIMIT ?", (account, decode_cursor(cursor), limit + 1)
        )
        return page(rows, limit, _webhook)

    async def _save(self, webhook: Webhook, **changes: Any) -> Webhook:
        """Write only the changed columns, so concurrent changes to other columns are not undone."""
        changes["updated_at"] = self._db.now()
        async with self._db.transaction() as db:
            await db.execute(
                f"UPDATE webhooks SET {', '.join(f'{column} = ?' for column in changes)} WHERE id = ?",
                (*changes.values(), webhook.id),
            )
        return dataclasses.replace(webhook, **changes)

    async def update(self, account: str, webhook_id: str, changes: dict[str, Any]) -> Webhook:
        """Change url, description or enabled; enabling clears the reason it was disabled; none writes nothing."""
        if not changes:
            return self.get(account, webhook_id)
        webhook = self.get(account, webhook_id)
        if changes.get("enabled"):
            changes = changes | {"disabled_reason": None}
            if not webhook.enabled:  # a fresh start: failures before it was disabled no longer count
                changes |= {"failing_since": None, "consecutive_failures": 0}
        return await self._save(webhook, **changes)

    async def rotate_secret(self, account: str, webhook_id: str) -> Webhook:
        """Give the webhook a new secret; the old one keeps signing for ROTATION_OVERLAP_SECONDS."""
        webhook = self.get(account, webhook_id)
        until = self._db.now() + ROTATION_OVERLAP_SECONDS
        return await self._save(
            webhook, secret=new_secret(), previous_secret=webhook.secret, previous_secret_until=until
        )

    async def disable(self, webhook_id: str, reason: str) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?",
                (reason, self._db.now(), webhook_id),
            )

    async def record_success(self, webhook: Webhook, now: int) -> None:
        """Note a 2xx answer: the webhook is healthy again (written at most once a minute while healthy)."""
        if (
            webhook.consecutive_failures == 0
            and webhook.last_success_at is not None
            and now - webhook.last_success_at < HEALTH_WRITE_INTERVAL
        ):
            return
        await self._db.write(
            (
                "UPDATE webhooks SET last_success_at = ?, failing_since = NULL, consecutive_failures = 0 WHERE id = ?",
                (now, webhook.id),
            )
        )

    async def record_failure(self, webhook_id: str, now: int, disable_after: int | None, reason: str) -> bool:
        """Note a failed attempt; disable the webhook with `reason` once it has only failed for `disable_after`
        seconds. Return whether this call disabled it."""
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1,"
                " failing_since = coalesce(failing_since, ?) WHERE id = ?",
                (now, webhook_id),
            )
        ]
        if disable_after:
            statements.append(
                (
                    "UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ?"
                    " WHERE id = ? AND enabled = 1 AND failing_since <= ?",
                    (reason, now, webhook_id, now - disable_after),
                )
            )
        counts = await self._db.write(*statements)
        return len(counts) > 1 and counts[1] == 1

    async def delete(self, account: str, webhook_id: str) -> None:
        """Delete a webhook; its pending requests fail at once, and their content is erased with it."""
        async with self._db.transaction() as db:
            cursor = await db.execute("DELETE FROM webhooks WHERE account = ? AND id = ?", (account, webhook_id))
            if cursor.rowcount:
                await db.execute(
                    "UPDATE message_requests SET status = 'failed', messages = NULL, reply = NULL, context_ids = NULL,"
                    " last_error = 'The webhook was deleted before the reply was delivered.', updated_at = ?"
                    " WHERE webhook_id = ? AND status = 'scheduled'",
                    (self._db.now(), webhook_id),
                )
        if cursor.rowcount == 0:
            raise _not_found(webhook_id)
        self._db.content_purged()
