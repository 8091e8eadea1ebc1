"""Wire models of /api/v1/webhooks."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic.json_schema import SkipJsonSchema

from novaro_lite.api.schemas.paging import PageOut
from novaro_lite.api.schemas.wire import PatchModel, WireModel
from novaro_lite.domain.events import EVENTS, Event, check_events
from novaro_lite.domain.webhooks import Webhook
from novaro_lite.outbound.playground import PLAYGROUND_URL

# An http(s) URL, its scheme in any case (RFC 3986), with no space or control character (aiohttp would refuse
# every delivery to one); or the playground. As the schema's pattern, which ECMAScript must read as well.
URL_PATTERN = rf"^([Hh][Tt][Tt][Pp][Ss]?://[^\s\x00-\x1f\x7f]+|{PLAYGROUND_URL})$"


def _check_url(url: str) -> str:
    if not re.fullmatch(URL_PATTERN, url):
        raise ValueError(
            f"must be an http:// or https:// URL with no spaces or control characters in it, or {PLAYGROUND_URL}"
        )
    return url


Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        json_schema_extra={"pattern": URL_PATTERN},
        examples=["https://example.com/hook"],
        description=f"Where deliveries are POSTed; or {PLAYGROUND_URL!r}, the receiver inside the server whose"
        " deliveries stream to the account's open dashboard pages (GET /api/v1/playground/events), kept nowhere.",
    ),
    AfterValidator(_check_url),
]
Description = Annotated[str, Field(max_length=500)]
Events = Annotated[
    list[Event],
    Field(
        min_length=1,
        max_length=len(EVENTS),
        description='What this webhook receives: "reply" (always), "read" (signed `message.read` when the agent '
        'opens the chat) and "typing" (signed `agent.typing` when it starts to type). See the `webhooks` section.',
    ),
    AfterValidator(check_events),
]


class WebhookCreate(WireModel):
    url: Url
    description: Description = ""
    enabled: bool = True
    events: Events = ["reply"]


class WebhookPatch(PatchModel):
    """Only the fields present change; none may be null."""

    url: Url | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    enabled: bool | SkipJsonSchema[None] = None
    events: Events | SkipJsonSchema[None] = None


class WebhookOut(WireModel):
    id: str
    url: str
    description: str
    enabled: bool
    events: list[Event]
    disabled_reason: str | None = Field(description="Why the server disabled it (e.g. the receiver answered 410).")
    previous_secret_valid_until: int | None = Field(description="After a rotation, the old secret signs until then.")
    paused_count: int = Field(
        description="Requests waiting, with their content, for this disabled webhook to be enabled again; then"
        " they are delivered oldest first (after [delivery] paused_max_days they fail)."
    )
    created_at: int
    updated_at: int
    last_success_at: int | None = Field(description="When a delivery last got a 2xx answer; null if never.")
    failing_since: int | None = Field(
        description="The first failed delivery since the last success; null while healthy. After [webhooks] "
        "disable_after_hours (120 by default) of only failures, the webhook is disabled with the reason."
    )
    consecutive_failures: int = Field(description="Failed delivery attempts since the last success.")

    @classmethod
    def of(cls, webhook: Webhook, paused_count: int = 0) -> WebhookOut:
        return cls(
            id=webhook.id,
            url=webhook.url,
            description=webhook.description,
            enabled=webhook.enabled,
            events=[event for event in EVENTS if event in webhook.events],
            disabled_reason=webhook.disabled_reason,
            previous_secret_valid_until=webhook.previous_secret_until,
            paused_count=paused_count,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
            last_success_at=webhook.last_success_at,
            failing_since=webhook.failing_since,
            consecutive_failures=webhook.consecutive_failures,
        )


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="whsec_… signing secret. Shown only now: store it.")

    @classmethod
    def of(cls, webhook: Webhook, paused_count: int = 0) -> WebhookWithSecret:
        return cls(**WebhookOut.of(webhook, paused_count).model_dump(), secret=webhook.secret)


class WebhookPage(PageOut):
    data: list[WebhookOut]


class WebhookTestResult(WireModel):
    delivered: bool = Field(description="True when the receiver answered 2xx.")
    status_code: int | None
    duration_ms: int
    response_body: str | None = Field(description="The first 1 KiB of the receiver's answer.")
    error: str | None
