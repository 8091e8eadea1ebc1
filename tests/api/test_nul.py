"""NUL (U+0000) in any text a client sends is a 422 naming where, on both engines (PostgreSQL cannot store it)."""

from __future__ import annotations

import httpx
import pytest

from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


async def test_nul_in_a_body_field_is_a_422_at_that_field(client: httpx.AsyncClient, auth):
    response = await client.post("/api/v1/agents", json={"name": "Le\u0000na"}, headers=auth)
    body = assert_problem(response, 422, "NUL")
    assert [error["loc"] for error in body["errors"]] == [["body", "name"]]
    response = await client.post("/api/v1/contexts", json={"name": "c", "content": "a\u0000b"}, headers=auth)
    assert [error["loc"] for error in assert_problem(response, 422)["errors"]] == [["body", "content"]]


async def test_nul_deep_in_a_body_is_located(client: httpx.AsyncClient, auth):
    agent = (await client.post("/api/v1/agents", json={"name": "Lena"}, headers=auth)).json()
    messages = [{"role": "user", "content": "hi"}, {"role": "user", "content": "x\u0000"}]
    response = await client.post("/api/v1/messages", json={"agentId": agent["id"], "messages": messages}, headers=auth)
    assert [error["loc"] for error in assert_problem(response, 422)["errors"]] == [["body", "messages", 1, "content"]]


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(client: httpx.AsyncClient, auth):
    response = await client.post("/api/v1/agents", json={"name": "back\\u0000slash"}, headers=auth)
    assert response.status_code == 201 and response.json()["name"] == "back\\u0000slash"


async def test_nul_in_a_query_or_a_path_is_a_422(client: httpx.AsyncClient, auth):
    response = await client.get("/api/v1/message-requests", params={"reference": "a\u0000"}, headers=auth)
    assert [error["loc"] for error in assert_problem(response, 422)["errors"]] == [["query", "reference"]]
    response = await client.get("/api/v1/agents/agt_%00", headers=auth)
    assert [error["loc"] for error in assert_problem(response, 422)["errors"]] == [["path", "id"]]
