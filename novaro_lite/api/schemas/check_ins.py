"""Wire models of /api/v1/check-ins: a message an agent writes first, at a drawn human moment."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, JsonValue

from novaro_lite.api.schemas.agents import ClockTime, TimeZone
from novaro_lite.api.schemas.messages import MessageIn
from novaro_lite.api.schemas.paging import PageOut, PageQuery
from novaro_lite.api.schemas.requests import QueuedOut
from novaro_lite.api.schemas.wire import WireModel
from novaro_lite.domain.check_in_rules import CheckInRule, RuleStatus
from novaro_lite.domain.check_ins import MAX_WINDOW_SECONDS, CanceledReason
from novaro_lite.domain.conversations import CONVERSATION_ID_MAX
from novaro_lite.domain.requests import MessageRequest, Status

TOPIC_MAX = 500
Bound = Annotated[
    Annotated[int, Field(ge=0, le=MAX_WINDOW_SECONDS)] | AwareDatetime,
    Field(
        description="Seconds from now, or an absolute time (RFC 3339, with its offset).",
        examples=[3600, "2026-06-11T18:00:00+02:00"],
    ),
]
EXAMPLE: dict[str, JsonValue] = {
    "agentId": "agt_01J9Z3",
    "webhookId": "whk_01J9Z3",
    "conversationId": "user-42",
    "topic": "ask how the exam went",
    "window": {"after": 3600, "before": 86400},
    "timezone": "Europe/Paris",
    "quietHours": {"start": "22:00", "end": "08:00"},
    "messages": [{"role": "user", "content": "Exam tomorrow, wish me luck"}],
    "reference": "exam-followup",
}


class WindowIn(WireModel):
    """When the check-in may land: not before `after`, not after `before`."""

    after: Bound = 0
    before: Bound = 86400


class QuietHoursModel(WireModel):
    """The user's do-not-disturb on the user's wall clock; `end` before `start` crosses midnight; equal: none."""

    start: ClockTime
    end: ClockTime


class CheckInCreate(WireModel):
    model_config = {**WireModel.model_config, "json_schema_extra": {"examples": [EXAMPLE]}}

    agent_id: str = Field(min_length=1, max_length=100)
    webhook_id: str = Field(min_length=1, max_length=100)
    conversation_id: str = Field(
        min_length=1,
        max_length=CONVERSATION_ID_MAX,
        description="Yours: the chat to write in. A message request or realtime message with this id ends the "
        "check-in (the user wrote first).",
    )
    reference: str = Field(min_length=1, max_length=500, description="Yours; sent back with the check-in.")
    messages: list[MessageIn] = Field(
        default_factory=list, max_length=200, description="The recent history, oldest first; erased when it ends."
    )
    topic: str | None = Field(
        None, min_length=1, max_length=TOPIC_MAX, description="What to bring up; erased when the check-in ends."
    )
    window: WindowIn = Field(default_factory=WindowIn)
    timezone: TimeZone | None = Field(None, description="The user's time zone; default: the agent's.")
    quiet_hours: QuietHoursModel | None = Field(
        None, description="The user's quiet hours; default: the server's [check_ins] default_quiet_hours."
    )


class WindowOut(WireModel):
    not_before: int = Field(description="Unix seconds.")
    not_after: int = Field(description="Unix seconds.")


class CheckInOut(QueuedOut):
    scheduled_for: int = Field(description="The drawn moment (or the next attempt), unix seconds.")
    conversation_id: str
    topic: str | None = Field(description="While it waits; null once it has ended (erased).")
    window: WindowOut
    timezone: str
    quiet_hours: QuietHoursModel
    rule_id: str | None = Field(description="The recurring rule that yielded it, if any.")
    canceled_reason: CanceledReason | None = Field(
        description="user_wrote: a message came in the conversation; conversation_active: the agent was online "
        "there when it came due; canceled: DELETE."
    )
    typing_at: int | None = Field(
        description="When the agent started typing it (the `agent.typing` moment, sent or not), unix seconds; "
        "null until then."
    )

    @classmethod
    def of(cls, check_in: MessageRequest) -> CheckInOut:
        moment = check_in.moment
        assert moment is not None and check_in.conversation_id is not None, "a check-in row has both"
        return cls(
            **cls.queued(check_in),
            conversation_id=check_in.conversation_id,
            topic=check_in.topic,
            window=WindowOut(not_before=int(moment.not_before), not_after=int(moment.not_after)),
            timezone=moment.timezone,
            quiet_hours=QuietHoursModel(start=moment.quiet_hours.start, end=moment.quiet_hours.end),
            rule_id=check_in.rule_id,
            canceled_reason=check_in.canceled_reason,
            typing_at=check_in.typing_started_at,
        )


class CheckInPage(PageOut):
    data: list[CheckInOut]


class CheckInQuery(PageQuery):
    status: Status | None = None
    agent_id: str | None = Field(None, max_length=100)
    conversation_id: str | None = Field(None, max_length=CONVERSATION_ID_MAX)
    reference: str | None = Field(None, max_length=500)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _working_days() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


RULE_EXAMPLE: dict[str, JsonValue] = {
    "agentId": "agt_01J9Z3",
    "webhookId": "whk_01J9Z3",
    "conversationId": "user-42",
    "topic": "say good morning",
    "at": "08:30",
    "spreadMinutes": 40,
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "until": "2026-09-01T00:00:00+02:00",
    "timezone": "Europe/Paris",
    "quietHours": {"start": "22:00", "end": "08:00"},
    "reference": "good-morning",
}


class CheckInRuleCreate(WireModel):
    model_config = {**WireModel.model_config, "json_schema_extra": {"examples": [RULE_EXAMPLE]}}

    agent_id: str = Field(min_length=1, max_length=100)
    webhook_id: str = Field(min_length=1, max_length=100)
    conversation_id: str = Field(min_length=1, max_length=CONVERSATION_ID_MAX)
    reference: str = Field(min_length=1, max_length=500, description="Yours; sent back with each check-in.")
    topic: str | None = Field(None, min_length=1, max_length=TOPIC_MAX, description="What to bring up each time.")
    at: ClockTime = Field(description="Around when, on the agent's wall clock (HH:MM).")
    spread_minutes: int = Field(40, ge=5, le=180, description="How far either side of `at` a check-in may land.")
    days: list[Weekday] = Field(
        default_factory=lambda: _working_days(), min_length=1, max_length=7, description="On these weekdays."
    )
    until: AwareDatetime | None = Field(None, description="No check-in after this time; null: no end.")
    timezone: TimeZone | None = Field(None, description="The user's time zone; default: the agent's.")
    quiet_hours: QuietHoursModel | None = Field(
        None, description="The user's quiet hours; default: the server's [check_ins] default_quiet_hours."
    )


class CheckInRuleOut(WireModel):
    id: str
    status: RuleStatus
    agent_id: str
    webhook_id: str
    conversation_id: str
    reference: str
    topic: str | None
    at: str
    spread_minutes: int
    days: list[str]
    until: int | None = Field(description="Unix seconds.")
    timezone: str
    quiet_hours: QuietHoursModel
    next_window_opens: int = Field(description="When the next occurrence's window opens, unix seconds.")
    last_skipped: str | None = Field(
        description="Why the latest occurrence sent nothing: a rule against spam (unanswered: the rule is paused "
        "until the user writes), or no_moment (sleep or quiet hours fill the window); null if it yielded one."
    )
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, rule: CheckInRule) -> CheckInRuleOut:
        recurrence = rule.recurrence
        return cls(
            id=rule.id,
            status=rule.status,
            agent_id=rule.agent_id,
            webhook_id=rule.webhook_id,
            conversation_id=rule.conversation_id,
            reference=rule.reference,
            topic=rule.topic,
            at=recurrence.at,
            spread_minutes=recurrence.spread_minutes,
            days=list(recurrence.days),
            until=None if recurrence.until is None else int(recurrence.until),
            timezone=rule.moment_zone,
            quiet_hours=QuietHoursModel(start=rule.quiet_hours.start, end=rule.quiet_hours.end),
            next_window_opens=int(rule.next_after),
            last_skipped=rule.last_skipped,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


class CheckInRulePage(PageOut):
    data: list[CheckInRuleOut]


class CheckInRuleQuery(PageQuery):
    agent_id: str | None = Field(None, max_length=100)
