"""Recurring check-in rules in storage: create, show, list, cancel, and yield a rule's next check-in.

A rule (domain/check_in_rules.py) holds no timer of its own: delivery/check_ins.py asks for the rules whose
next window opens soon and that have no check-in waiting (`due`), and `yield_check_in` stores that check-in
through the same rules against spam as a one-off one (storage/check_ins.py) and moves the rule on, in one
transaction under the rule's lock, so two processes never yield the same occurrence twice.
"""

from __future__ import annotations

import builtins
import dataclasses
import json

from novaro_lite.domain.check_in_rules import CheckInRule, Recurrence
from novaro_lite.domain.check_ins import QuietHours, Rules
from novaro_lite.domain.ids import new_id
from novaro_lite.errors import NotFoundError
from novaro_lite.storage.check_ins import NewCheckIn, RefusedError, insert_check_in
from novaro_lite.storage.database import Database, Row
from novaro_lite.storage.paging import Listing, Page, select_page
from novaro_lite.storage.requests import PURGE_SQL, WAITING_SQL

_COLUMNS = (
    "id, account, agent_id, webhook_id, conversation_id, reference, topic, recurrence, timezone, quiet_hours,"
    " status, next_after, last_skipped, created_at, updated_at"
)
_SELECT = f"SELECT seq, {_COLUMNS} FROM check_in_rules"
_WAITING = f"SELECT 1 FROM message_requests WHERE rule_id = check_in_rules.id AND status IN {WAITING_SQL}"


def _lock(rule_id: str) -> str:
    return f"check-in-rule:{rule_id}"


def _row_to_rule(row: Row) -> CheckInRule:
    recurrence = json.loads(row["recurrence"])
    quiet = json.loads(row["quiet_hours"])
    return CheckInRule(
        id=row["id"],
        account=row["account"],
        agent_id=row["agent_id"],
        webhook_id=row["webhook_id"],
        conversation_id=row["conversation_id"],
        reference=row["reference"],
        topic=row["topic"],
        recurrence=Recurrence(
            recurrence["at"], recurrence["spread_minutes"], tuple(recurrence["days"]), recurrence["until"]
        ),
        moment_zone=row["timezone"],
        quiet_hours=QuietHours(quiet["start"], quiet["end"]),
        status=row["status"],
        next_after=row["next_after"] / 1000,
        last_skipped=row["last_skipped"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class CheckInRuleStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(self, rule: CheckInRule) -> CheckInRule:
        """Store a new rule (its id, times and status are set here) and return it."""
        now = self._db.now()
        stored = dataclasses.replace(rule, id=new_id("rul", now), status="active", created_at=now, updated_at=now)
        await self._db.insert(
            f"INSERT INTO check_in_rules ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stored.id,
                stored.account,
                stored.agent_id,
                stored.webhook_id,
                stored.conversation_id,
                stored.reference,
                stored.topic,
                json.dumps(dataclasses.asdict(stored.recurrence)),
                stored.moment_zone,
                json.dumps(dataclasses.asdict(stored.quiet_hours)),
                "active",
                int(stored.next_after * 1000),
                None,
                now,
                now,
            ),
        )
        return stored

    async def get(self, account: str, rule_id: str) -> CheckInRule:
        row = await self._db.one(f"{_SELECT} WHERE account = ? AND id = ?", (account, rule_id))
        if row is None:
            raise NotFoundError(f"There is no check-in rule with id {rule_id!r}.")
        return _row_to_rule(row)

    async def list(self, account: str, listing: Listing, *, agent_id: str | None = None) -> Page[CheckInRule]:
        """A page of the account's rules (of one agent, if given) whose reference contains `listing.q`."""
        where, params = (
            ("account = ? AND agent_id = ?", (account, agent_id)) if agent_id else ("account = ?", (account,))
        )
        return await select_page(
            self._db, "check_in_rules", _COLUMNS, where, params, listing, _row_to_rule, search=("reference",)
        )

    async def cancel(self, account: str, rule_id: str) -> CheckInRule:
        """End the rule and its waiting check-in (if not yet being written); canceling it twice is harmless."""
        await self.get(account, rule_id)
        now = self._db.now()
        async with self._db.transaction() as tx:
            await tx.lock(_lock(rule_id))
            await tx.execute(
                "UPDATE check_in_rules SET status = 'canceled', updated_at = ? WHERE id = ? AND status = 'active'",
                (now, rule_id),
            )
            ended = await tx.execute(
                f"UPDATE message_requests SET status = 'canceled', canceled_reason = 'canceled', {PURGE_SQL},"
                " updated_at = ? WHERE rule_id = ? AND status IN ('scheduled', 'paused')",
                (now, rule_id),
            )
        if ended:
            self._db.content_purged()
        return await self.get(account, rule_id)

    async def due(self, before: float, limit: int = 100) -> builtins.list[CheckInRule]:
        """Active rules whose next window opens before `before` and that have no check-in waiting, soonest first."""
        rows = await self._db.all(
            f"{_SELECT} WHERE status = 'active' AND next_after <= ? AND NOT EXISTS ({_WAITING})"
            " ORDER BY next_after LIMIT ?",
            (int(before * 1000), limit),
        )
        return [_row_to_rule(row) for row in rows]

    async def yield_check_in(
        self, rule: CheckInRule, new: NewCheckIn | None, skipped: str | None, following: float | None, rules: Rules
    ) -> tuple[str | None, str | None]:
        """Store the occurrence's check-in `new` (None: `skipped` says why there is none) and move the rule on to
        the window opening at `following` (None: the rule has ended). Return the stored check-in's id (None if
        none) and why the occurrence was skipped: `skipped`, or the rule against spam that refused it.

        Nothing happens (None, None) if another process moved the rule on, or it was canceled, meanwhile.
        """
        now, stored = self._db.now(), None
        async with self._db.transaction() as tx:
            await tx.lock(_lock(rule.id))
            current = await tx.fetch(
                "SELECT next_after FROM check_in_rules WHERE id = ? AND status = 'active'", (rule.id,)
            )
            if not current or current[0][0] != int(rule.next_after * 1000):
                return None, None
            if new is not None:
                try:
                    stored = await insert_check_in(tx, rule.account, new, rules, now, accepted=lambda made: made.id)
                except RefusedError as refused:
                    skipped = refused.rule
            await tx.execute(
                "UPDATE check_in_rules SET next_after = ?, status = ?, last_skipped = ?, updated_at = ? WHERE id = ?",
                (
                    int((following if following is not None else rule.next_after) * 1000),
                    "active" if following is not None else "ended",
                    skipped,
                    now,
                    rule.id,
                ),
            )
        return stored, skipped

    async def end(self, rule_id: str) -> None:
        """End a rule that can yield no more (its agent or its webhook was deleted)."""
        await self._db.write(
            (
                "UPDATE check_in_rules SET status = 'ended', updated_at = ? WHERE id = ? AND status = 'active'",
                (self._db.now(), rule_id),
            )
        )
