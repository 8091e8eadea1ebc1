"""Wire models of the webhook events besides the reply, and their entries in the OpenAPI `webhooks` section."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from novaro_lite.api.schemas.wire import WireModel

_SIGNED = (
    "Signed like the reply (Standard Webhooks `webhook-id`, `webhook-timestamp`, `webhook-signature`); "
    "`webhook-id` is the request id plus `.{event}`. Best-effort: sent once, never retried."
)

_GROUP = "Only in a group's exchange: the group, as in its reply."
_TURN = "Only in a group's exchange: the turn of the reply this event is about, as in the reply."


class MessageReadEvent(WireModel):
    """Sent to a webhook subscribed to `read` when the agent opens the chat and reads the request's messages."""

    type: Literal["message.read"]
    id: str = Field(description="The message request.")
    agent_id: str
    reference: str
    conversation_id: str | None
    read_at: int = Field(description="Unix seconds.")
    group_id: str | None = Field(None, description=_GROUP)
    turn: int | None = Field(None, ge=1, description=_TURN)


class AgentTypingEvent(WireModel):
    """Sent to a webhook subscribed to `typing` when the agent starts typing its reply."""

    type: Literal["agent.typing"]
    id: str = Field(description="The message request.")
    agent_id: str
    reference: str
    conversation_id: str | None
    until: int = Field(description="Unix seconds: when the last bubble is typed and the reply is delivered.")
    group_id: str | None = Field(None, description=_GROUP)
    turn: int | None = Field(None, ge=1, description=_TURN)


def _entry(name: str, model: type[WireModel], event: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    return {
        "post": {
            "operationId": f"event_{name}",
            "summary": schema.pop("description", name),
            "description": _SIGNED.format(event=event),
            "tags": ["webhooks"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {"200": {"description": "Any 2xx acknowledges it."}},
        }
    }


def event_webhooks() -> dict[str, Any]:
    """The OpenAPI `webhooks` entries of the `read` and `typing` events."""
    return {
        "messageRead": _entry("messageRead", MessageReadEvent, "read"),
        "agentTyping": _entry("agentTyping", AgentTypingEvent, "typing"),
    }
