"""What a webhook receiver gets, for the OpenAPI `webhooks` section, and the API description's promises.

The delivery body itself is built by domain.requests.webhook_body; the model here documents it and a test
validates real deliveries against it, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, JsonValue

from novaro_lite.api.schemas.messages import MessageOut
from novaro_lite.api.schemas.wire import WireModel
from novaro_lite.domain.agents import ResponseBand
from novaro_lite.domain.timing import DEFAULT_RESPONSE_TIMES

GROUP_DELIVERY_EXAMPLE: dict[str, JsonValue] = {
    "type": "reply",
    "messages": [
        {"role": "assistant", "createdAt": 1764097260, "content": "Yes! I'll bring bread."},
        {"role": "assistant", "createdAt": 1764097264, "content": "Who else is coming?"},
    ],
    "reference": "flat-chat/1842",
    "secret": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "id": "req_01jqz8y3b5d7f9h1k3m5p7r9t1",
    "agentId": "agt_01jqz8v1b3d5f7h9k1m3p5r7t9",
    "groupId": "grp_01jqz8w7b9d1f3h5k7m9p1r3t5",
    "conversationId": "flat-chat",
    "turn": 1,
}


class WebhookDelivery(WireModel):
    """The JSON body POSTed to a webhook: an agent's reply to one message request (in a group, one member's
    reply, with the group and the turn), or a check-in it wrote first."""

    model_config = ConfigDict(json_schema_extra={"examples": [GROUP_DELIVERY_EXAMPLE]})

    type: Literal["reply", "check_in"] = Field(
        description="`reply` answers a message request; `check_in` is a message the agent wrote first (a check-in)."
    )
    messages: list[MessageOut] = Field(
        description="The reply, one entry per chat bubble, oldest first; `createdAt` is spaced by typing speed. "
        "Empty in a test ping."
    )
    reference: str = Field(description="The `reference` sent with the message request (`novaro-lite:ping` in a ping).")
    secret: str = Field(
        description="SHA-256 hex of the webhook's current secret: a quick check; verify `webhook-signature` for real."
    )
    id: str = Field(
        description="The message request (or check-in) id; equal to the `webhook-id` header. De-duplicate on it."
    )
    agent_id: str = Field(description="The agent that replied (empty in a test ping).")
    conversation_id: str | None = Field(description="The request's (or check-in's) `conversationId`, if it has one.")
    group_id: str | None = Field(
        None,
        description="Only in a group's reply: the group whose message this answers. Each member's reply is "
        "its own delivery.",
    )
    turn: int | None = Field(
        None,
        ge=1,
        description="Only in a group's reply: its turn in the exchange (1 answers the user's message, 2 answers "
        "turn 1's reply, and so on up to the group's `maxAgentTurns`).",
    )


SIGNATURE_HEADERS: tuple[tuple[str, str], ...] = (
    (
        "webhook-id",
        "The message request id. Every retry of one delivery carries the same id (delivery is at least once), "
        "so a receiver that has seen it answers 2xx and does nothing.",
    ),
    ("webhook-timestamp", "Unix seconds when this attempt was signed; reject values far from your clock."),
    (
        "webhook-signature",
        "Space-separated `v1,<base64 HMAC-SHA256>` signatures of `{webhook-id}.{webhook-timestamp}.{body}`, keyed "
        "with the base64-decoded part of the `whsec_` secret (Standard Webhooks). While a secret is being "
        "rotated both the new and the old key sign; accept the request if any signature matches.",
    ),
)

_RECEIVER_RULES = (
    "Answer any 2xx within the timeout (15 s by default) to accept. Redirects are not followed. Any other answer "
    "or no answer is retried on the retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, with jitter), "
    "`Retry-After` is honoured on 429 and 503, and 410 Gone disables the webhook."
)


def _band_label(seconds: float) -> str:
    if seconds % 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def response_time_table(bands: tuple[ResponseBand, ...] = DEFAULT_RESPONSE_TIMES) -> str:
    """Return the default response-time table as Markdown, from the bands the timing code draws from."""
    rows = ["| reply within | probability | cumulative |", "|---|---|---|"]
    lower, cumulative = 0.0, 0.0
    for band in bands:
        cumulative += band.probability
        start = "0" if lower == 0 else _band_label(lower)
        rows.append(
            f"| {start} – {_band_label(band.up_to_seconds)} | {band.probability:.0%} | {round(cumulative, 6):.0%} |"
        )
        lower = band.up_to_seconds
    return "\n".join(rows)


def api_description() -> str:
    """The OpenAPI `info.description`: how to authenticate, the timing model and what is never kept."""
    return "\n\n".join(
        (
            "Self-hosted API for AI persona agents. Authenticate with `Authorization: Bearer <token>`; "
            "create a token with `novaro-lite token create --name NAME`. Every error is an RFC 9457 "
            "`application/problem+json` body. Send `X-Request-Id` to correlate a call with the server's logs; "
            "every response carries one.",
            "## Response times\n\nAn async message request is answered after a delay drawn the way a person "
            "answers a chat: pick a band by its probability, then a uniform point inside it. An agent may have "
            "its own table; this is the default.",
            response_time_table(),
            "A message that arrives while the agent is asleep (outside its active hours, in its own time zone) is "
            "read at wake-up and the delay counts from then. `delay` on a request can ask for `immediate` or a "
            "fixed number of seconds for integration tests, unless the server forbids it.",
            "## Statelessness\n\nnovaro-lite keeps no chat history. Realtime request content is never written to "
            "disk. An async request's messages, and the reply generated for it, are stored only until the reply "
            "is delivered or finally fails; then they are erased and only metadata (ids, times, status, attempts, "
            "status codes) is kept. Logs never hold message content, tokens or secrets.",
            "## Webhooks\n\nThe `webhooks` section shows what your receiver gets. " + _RECEIVER_RULES,
        )
    )


def webhooks_section(delivery_ref: dict[str, Any]) -> dict[str, Any]:
    """Return the OpenAPI 3.1 `webhooks` object: a reply delivery and the test ping, with their headers."""
    parameters = [
        {"name": name, "in": "header", "required": True, "description": text, "schema": {"type": "string"}}
        for name, text in SIGNATURE_HEADERS
    ]
    responses = {
        "2XX": {"description": "Accepted; the request is delivered and its content erased."},
        "410": {"description": "Gone: the webhook is disabled and no more deliveries are sent to it."},
        "default": {"description": "Anything else, or no answer in time: the delivery is retried."},
    }
    body = {"required": True, "content": {"application/json": {"schema": delivery_ref}}}

    def post(operation_id: str, summary: str, description: str) -> dict[str, Any]:
        return {
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "description": description,
                "tags": ["webhooks"],
                "parameters": parameters,
                "requestBody": body,
                "responses": responses,
                "security": [],
            }
        }

    return {
        "messageReply": post(
            "webhook_message_reply",
            "An agent's reply to a message request",
            "POSTed to the request's webhook when its due time comes. " + _RECEIVER_RULES,
        ),
        "checkIn": post(
            "webhook_check_in",
            "A message the agent wrote first (a check-in)",
            "POSTed to the check-in's webhook at its drawn moment, `type` `check_in`, signed and retried like a "
            "reply. A check-in the user made moot by writing first is never sent. " + _RECEIVER_RULES,
        ),
        "ping": post(
            "webhook_ping",
            "A test ping from POST /api/v1/webhooks/{id}/test",
            "Shaped like a delivery with no messages, `reference` `novaro-lite:ping` and an empty `agentId`; "
            "signed the same way. Not retried.",
        ),
    }
