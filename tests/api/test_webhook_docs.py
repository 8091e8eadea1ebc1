from __future__ import annotations

import dataclasses

import httpx
import pytest

from novaro_lite.api.docs.webhooks import SIGNATURE_HEADERS, WebhookDelivery, response_time_table
from novaro_lite.domain.agents import ResponseBand
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import MessageRequest, webhook_body

pytestmark = pytest.mark.anyio

REQUEST = MessageRequest(
    id="req_1", account="acme", agent_id="agt_1", webhook_id="whk_1", reference="order-7",
    status="delivering", scheduled_for=0, attempts=0, last_error=None, last_status_code=None, delivered_at=None,
    created_at=0, updated_at=0, messages=None, context_ids=(), reply=None,
)  # fmt: skip


async def test_openapi_webhooks_describe_the_delivery_body_and_its_signature_headers(client: httpx.AsyncClient):
    spec = (await client.get("/openapi.json")).json()
    reply = spec["webhooks"]["messageReply"]["post"]
    assert {p["name"] for p in reply["parameters"] if p["in"] == "header"} == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    schema_ref = reply["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    delivery = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(delivery["required"]) == {"type", "messages", "reference", "secret", "id", "agentId", "conversationId"}
    assert {"groupId", "turn"} <= set(delivery["properties"])
    (example,) = delivery["examples"]  # a group member's reply, which the model accepts
    assert WebhookDelivery.model_validate(example).turn == 1 and example["groupId"].startswith("grp_")
    assert "ping" in spec["webhooks"]
    assert {"2XX", "410", "default"} == set(reply["responses"])


async def test_openapi_description_carries_the_response_time_table_and_statelessness(client: httpx.AsyncClient):
    description = (await client.get("/openapi.json")).json()["info"]["description"]
    assert "| 1 min – 5 min | 50% | 60% |" in description
    assert "| 90 min – 24 h | 1% | 100% |" in description
    assert "keeps no chat history" in description and "never written to disk" in description


def test_the_delivery_model_accepts_what_delivery_sends():
    reply = (ChatMessage("assistant", "hi", 1_700_000_000), ChatMessage("assistant", "there", 1_700_000_002))
    body = webhook_body(REQUEST, reply, "ab" * 32)
    delivery = WebhookDelivery.model_validate_json(body)
    assert delivery.id == "req_1" and delivery.agent_id == "agt_1" and len(delivery.messages) == 2
    assert (delivery.group_id, delivery.conversation_id, delivery.turn) == (None, None, None)
    group = dataclasses.replace(REQUEST, group_id="grp_1", conversation_id="flat-chat", turn=2)
    delivery = WebhookDelivery.model_validate_json(webhook_body(group, reply, "ab" * 32))
    assert (delivery.agent_id, delivery.group_id, delivery.conversation_id, delivery.turn) == (
        "agt_1",
        "grp_1",
        "flat-chat",
        2,
    )
    ping = webhook_body(dataclasses.replace(REQUEST, agent_id=""), (), "ab" * 32)
    assert WebhookDelivery.model_validate_json(ping).messages == []


def test_the_delivery_model_accepts_a_groups_reply_and_a_check_in():
    turn = dataclasses.replace(REQUEST, conversation_id="flat-chat", group_id="grp_1", turn=2)
    group = WebhookDelivery.model_validate_json(webhook_body(turn, (), "ab" * 32))
    assert (group.type, group.conversation_id, group.group_id, group.turn) == ("reply", "flat-chat", "grp_1", 2)
    check_in = dataclasses.replace(REQUEST, kind="check_in", conversation_id="chat-1")
    written_first = WebhookDelivery.model_validate_json(webhook_body(check_in, (), "ab" * 32))
    assert (written_first.type, written_first.group_id, written_first.turn) == ("check_in", None, None)


def test_response_time_table_labels_hours_past_the_first():
    table = response_time_table((ResponseBand(up_to_seconds=7200, probability=1.0),))
    assert table.splitlines()[-1] == "| 0 – 2 h | 100% | 100% |"
    assert len(SIGNATURE_HEADERS) == 3
