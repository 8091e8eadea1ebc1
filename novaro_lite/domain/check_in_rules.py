"""Recurring check-ins (docs/design.md, Check-ins): "every weekday around 08:30, the agent's time, ± 40 min".

A rule yields one check-in at a time. Each occurrence is a window on the agent's wall clock, `at` ± `spread`
minutes on the chosen weekdays, before `until`; the check-in's moment is then drawn in that window like any
check-in's (domain/check_ins.py), so sleep, quiet hours and every rule against spam apply to it. Pure; no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Literal

from novaro_lite.domain.agents import time_zone
from novaro_lite.domain.check_ins import QuietHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.date.weekday() order
WORKING_DAYS = WEEKDAYS[:5]
# A rule's next check-in is yielded this long before its window opens: the rules against spam (is the
# conversation active? is a check-in still waiting?) are judged close to the moment, not a day ahead.
YIELD_LEAD_SECONDS = 3600.0
# Why an occurrence yielded no check-in: a rule against spam (domain/check_ins.py RULES) or no allowed moment.
NO_MOMENT = "no_moment"
RuleStatus = Literal["active", "ended", "canceled"]


@dataclasses.dataclass(frozen=True)
class Recurrence:
    """When a rule's occurrences fall: `at` (HH:MM on the agent's wall clock) ± `spread_minutes`, on `days`,
    and not after `until` (unix seconds; None: no end)."""

    at: str
    spread_minutes: int = 40
    days: tuple[str, ...] = WORKING_DAYS
    until: float | None = None


def next_window(timezone: str, recurrence: Recurrence, after: float) -> tuple[float, float] | None:
    """The window (unix seconds) of the first occurrence that opens at or after `after`; None once past `until`.

    A wall time that a DST change skips is read as the time after the gap (zoneinfo's fold 0); one that
    happens twice, as the first.
    """
    zone = time_zone(timezone)
    hours, minutes = (int(part) for part in recurrence.at.split(":"))
    spread = recurrence.spread_minutes * 60
    day = datetime.datetime.fromtimestamp(after, zone).date() - datetime.timedelta(days=1)
    for _ in range(9):  # a week and the days either side always hold a chosen weekday
        center = datetime.datetime.combine(day, datetime.time(hours, minutes), zone).timestamp()
        start, end = center - spread, center + spread
        if recurrence.until is not None and start >= recurrence.until:
            return None
        if start >= after and WEEKDAYS[day.weekday()] in recurrence.days:
            return start, end if recurrence.until is None else min(end, recurrence.until)
        day += datetime.timedelta(days=1)
    return None  # no weekday chosen (the API refuses that)


@dataclasses.dataclass(frozen=True)
class CheckInRule:
    """A recurring check-in: what each of its check-ins is, when they fall, and where the rule stands.

    `next_after` is when the next occurrence's window opens; `last_skipped` says why the latest occurrence
    yielded no check-in (a rule against spam, or NO_MOMENT), None if it did. `status`: active, ended (past
    `until`, or its agent deleted) or canceled (DELETE).
    """

    id: str
    account: str
    agent_id: str
    webhook_id: str
    conversation_id: str
    reference: str
    topic: str | None
    recurrence: Recurrence
    moment_zone: str  # the user's time zone, for the quiet hours
    quiet_hours: QuietHours
    status: RuleStatus
    next_after: float
    last_skipped: str | None
    created_at: int
    updated_at: int
