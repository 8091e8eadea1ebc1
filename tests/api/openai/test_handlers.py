"""/v1/chat/completions and /v1/models in-process: the request fields it takes and refuses, OpenAI-shaped errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import Secret
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from novaro_lite.api.openai.errors import scoped
from novaro_lite.api.web.problems import server_error_response
from novaro_lite.config.settings import ProviderSettings, SchedulerSettings, Settings
from tests.fakes.engines import holders_of
from tests.fakes.llm import API_KEY, Recorder, anthropic_app
from tests.fakes.serve import serve_in_thread
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def claude() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    with serve_in_thread(anthropic_app(recorder)) as url:
        yield url, recorder


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fake, claude) -> Settings:
    url, key = fake[0] + "/v1", Secret(API_KEY)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        providers={
            "fake": ProviderSettings(base_url=url, api_key=key, model="echo", timeout_seconds=1),
            "flat": ProviderSettings(base_url=url, api_key=key, model="echo", max_retries=0),
            "claude": ProviderSettings(kind="anthropic", base_url=claude[0], api_key=key, model="echo"),
        },
    )


@pytest.fixture
async def lena(client, auth) -> dict[str, Any]:
    response = await client.post("/api/v1/agents", json={"name": "Lena", "model": "fake"}, headers=auth)
    agent: dict[str, Any] = response.json()
    return agent


def assert_openai_error(response: httpx.Response, status: int, code: str, param: str | None = None) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == ("server_error" if status >= 500 else "invalid_request_error")
    assert (error["code"], error["param"]) == (code, param), error
    message: str = error["message"]
    return message


async def chat(client, auth, model: str, content: Any = "Hi", **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": content}]} | extra
    response: httpx.Response = await client.post("/v1/chat/completions", json=body, headers=auth)
    return response


async def test_errors_under_v1_use_openais_shape_and_elsewhere_problems(client, auth):
    unauthorized = await client.get("/v1/models")
    assert "missing" in assert_openai_error(unauthorized, 401, "invalid_api_key")
    assert unauthorized.headers["www-authenticate"].startswith("Bearer")
    assert "/v1/chat/completions" in assert_openai_error(await client.get("/v1/nope", headers=auth), 404, "not_found")
    not_allowed = assert_openai_error(await client.delete("/v1/models", headers=auth), 405, "method_not_allowed")
    assert "DELETE is not allowed" in not_allowed and "GET" in not_allowed
    broken = await client.post("/v1/chat/completions", content=b"{", headers=auth)
    assert "not valid JSON" in assert_openai_error(broken, 400, "invalid_request")
    huge = await client.post("/v1/chat/completions", content=b"x" * 1_100_000, headers=auth)
    assert_openai_error(huge, 413, "request_too_large")
    assert_problem(await client.get("/api/v1/nope", headers=auth), 404)


@pytest.mark.parametrize(
    ("extra", "code", "param"),
    [
        ({"temperature": 3}, "invalid_value", "temperature"),
        ({"top_p": -1}, "invalid_value", "top_p"),
        ({"max_tokens": 0}, "invalid_value", "max_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "invalid_value", "stop"),
        ({"n": 2}, "unsupported_parameter", "n"),
        ({"logprobs": True}, "unsupported_parameter", "logprobs"),
        ({"tool_choice": "auto"}, "unsupported_parameter", "tool_choice"),
        ({"response_format": {"type": "json_schema", "json_schema": {}}}, "unsupported_parameter", "response_format"),
        ({"modalities": ["text", "audio"]}, "unsupported_parameter", "modalities"),
        ({"modalities": 5}, "invalid_value", "modalities"),
        ({"modalities": True}, "invalid_value", "modalities"),
        ({"modalities": 1.5}, "invalid_value", "modalities"),
        ({"modalities": "text"}, "invalid_value", "modalities"),  # OpenAI takes an array only
        ({"modalities": {"text": 1}}, "invalid_value", "modalities"),
        ({"response_format": "text"}, "invalid_value", "response_format"),
        ({"tools": 1}, "invalid_value", "tools"),
        ({"metadata": {"contextIds": 5}}, "unsupported_parameter", "metadata.contextIds"),
        (
            {"metadata": {"contextIds": ",".join(f"ctx_{n}" for n in range(21))}},
            "unsupported_parameter",
            "metadata.contextIds",
        ),
        ({"metadata": {"contextIds": "ctx_nope"}}, "invalid_value", "metadata.contextIds[0]"),
        ({"messages": [{"role": "system", "content": "only rules"}]}, "unsupported_parameter", "messages"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "tool", "content": "b"}]},
            "unsupported_parameter",
            "messages[1].role",
        ),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "unsupported_parameter",
         "messages[0].content"),
        ({"messages": []}, "invalid_value", "messages"),
    ],
)  # fmt: skip
async def test_unsupported_or_invalid_fields_answer_400_naming_the_parameter(client, auth, lena, extra, code, param):
    message = assert_openai_error(await chat(client, auth, lena["id"], **extra), 400, code, param)
    assert "constrained" not in message and "literal[" not in message, message  # a union member's name


async def test_five_stop_sequences_are_faulted_as_too_many_not_as_a_string_expected(client, auth, lena):
    message = assert_openai_error(
        await chat(client, auth, lena["id"], stop=list("abcde")), 400, "invalid_value", "stop"
    )
    assert "at most 4" in message, message


async def test_modalities_text_is_accepted(client, auth, lena):
    response = await chat(client, auth, lena["id"], modalities=["text"])
    assert response.status_code == 200, response.text


async def test_accepted_fields_reach_the_provider_and_system_messages_follow_the_persona(client, auth, lena, fake):
    response = await client.post(
        "/v1/chat/completions",
        headers=auth,
        json={
            "model": lena["id"],
            "messages": [
                {"role": "developer", "content": "Rule one."},
                {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "again"}]},
                {"role": "assistant", "content": ""},  # chat UIs send empty placeholders; skipped
                {"role": "system", "content": "Rule two."},
            ],
            "max_completion_tokens": 40,
            "max_tokens": 99,
            "top_p": 0.9,
            "stop": "END",
            "seed": 3,
            "frequency_penalty": 0.1,
            "response_format": {"type": "text"},
            "tool_choice": "none",
            "n": 1,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["choices"][0]["message"]["content"].startswith("Echo: Hello\nagain\n\n")
    assert body["id"].startswith("chatcmpl-") and body["usage"]["total_tokens"] == 18
    sent = fake[1].requests[-1]
    assert sent["messages"][0]["content"].rstrip().endswith("Rule one.\n\nRule two.")
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert (sent["max_tokens"], sent["top_p"], sent["stop"]) == (40, 0.9, ["END"])
    assert "temperature" not in sent and "seed" not in sent


async def test_models_by_name_ids_and_accounts(client, auth, lena, services):
    await client.post("/api/v1/agents", json={"name": "Twin"}, headers=auth)
    await client.post("/api/v1/agents", json={"name": "Twin"}, headers=auth)
    assert (await chat(client, auth, "agent:Lena")).json()["model"] == lena["id"]
    ambiguous = assert_openai_error(await chat(client, auth, "agent:Twin"), 400, "ambiguous_model", "model")
    assert "2 agents are named 'Twin'" in ambiguous and "use the agent's id" in ambiguous
    assert_openai_error(await chat(client, auth, "agent:Nobody"), 404, "model_not_found", "model")
    _, other = await services.storage.tokens.create("o", "globex", None)
    theirs = {"Authorization": f"Bearer {other}"}
    assert_openai_error(await chat(client, theirs, lena["id"]), 404, "model_not_found", "model")
    assert (await client.get("/v1/models", headers=theirs)).json() == {"object": "list", "data": []}
    assert_openai_error(await client.get(f"/v1/models/{lena['id']}", headers=theirs), 404, "model_not_found", "model")
    assert_openai_error(await client.get("/v1/models/agent:Nobody", headers=auth), 404, "model_not_found", "model")
    band = (await client.post("/api/v1/agents", json={"name": "AC/DC"}, headers=auth)).json()
    retrieved = await client.get("/v1/models/agent:AC/DC", headers=auth)  # as OpenAI's clients put it in the path
    assert retrieved.status_code == 200 and retrieved.json()["id"] == band["id"]
    listed = await client.get("/v1/models/", headers=auth)  # the trailing slash some clients add
    assert listed.status_code == 200 and listed.json()["object"] == "list"
    mine = (await client.get("/v1/models", headers=auth)).json()["data"]
    assert [m["name"] for m in mine] == ["Lena", "Twin", "Twin", "AC/DC"]


async def test_context_ids_in_metadata_reach_the_prompt(client, auth, lena, fake):
    menu = (await client.post("/api/v1/contexts", json={"name": "Menu", "content": "Rye."}, headers=auth)).json()
    hours = (await client.post("/api/v1/contexts", json={"name": "Hours", "content": "7-19"}, headers=auth)).json()
    response = await chat(client, auth, lena["id"], metadata={"contextIds": f"{menu['id']}, {hours['id']}"})
    assert response.status_code == 200, response.text
    system = fake[1].requests[-1]["messages"][0]["content"]
    assert "Background you know (Menu)" in system and "Background you know (Hours)" in system


@pytest.mark.parametrize(
    ("model", "status", "code"), [("flat/fail-500", 502, "upstream_error"), ("fake/slow", 504, "upstream_timeout")]
)
async def test_upstream_failures_are_openai_server_errors(client, auth, model, status, code):
    agent = (await client.post("/api/v1/agents", json={"name": "Up", "model": model}, headers=auth)).json()
    assert_openai_error(await chat(client, auth, agent["id"]), status, code)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}, "messages[0].content[0].text"),
        ({"stop": ["ok", None]}, "stop[1]"),
    ],
)
async def test_a_fault_inside_a_union_value_is_named_where_it_is(client, auth, lena, extra, param):
    """The value had one member's shape (a list of parts, a list of stops): the fault is inside it, not that it
    is no string."""
    body = {"model": lena["id"], "messages": [{"role": "user", "content": "Hi"}]} | extra
    response = await client.post("/v1/chat/completions", json=body, headers=auth)
    message = assert_openai_error(response, 400, "invalid_value", param)
    assert "(and" not in message and "valid string" in message


@pytest.mark.parametrize("provider", ["fake", "claude"])
async def test_a_reply_the_token_limit_cut_off_finishes_with_length(client, auth, provider):
    """Clients look for finish_reason "length" to know a reply was truncated (max_tokens passed on)."""
    for model, reason in ((f"{provider}/cut-off", "length"), (f"{provider}/echo", "stop")):
        agent = (await client.post("/api/v1/agents", json={"name": "C", "model": model}, headers=auth)).json()
        whole = await chat(client, auth, agent["id"], max_tokens=5)
        assert whole.status_code == 200, whole.text
        assert whole.json()["choices"][0]["finish_reason"] == reason
        streamed = await chat(client, auth, agent["id"], max_tokens=5, stream=True)
        chunks = [json.loads(line.removeprefix("data: ")) for line in streamed.text.split("\n\n")[:-2]]
        finishes = [chunk["choices"][0]["finish_reason"] for chunk in chunks if chunk["choices"]]
        assert finishes[-1] == reason and set(finishes[:-1]) == {None}


async def test_stream_without_usage_and_a_failure_midway(client, auth):
    agent = (await client.post("/api/v1/agents", json={"name": "S", "model": "fake"}, headers=auth)).json()
    response = await chat(client, auth, agent["id"], stream=True)
    lines = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert lines[-1] == "[DONE]" and all("usage" not in json.loads(line) for line in lines[:-1])
    broken = (await client.post("/api/v1/agents", json={"name": "B", "model": "fake/stream-error"},
                                headers=auth)).json()  # fmt: skip
    response = await chat(client, auth, broken["id"], stream=True)
    events = [json.loads(line.removeprefix("data: ")) for line in response.text.split("\n\n")[:-2]]
    assert events[-1]["error"]["type"] == "server_error" and "mid-stream" in events[-1]["error"]["message"]


async def test_unexpected_errors_under_v1_are_logged_500s_in_openais_shape(caplog):
    async def boom(request: Request) -> Response:
        raise RuntimeError("secret detail")

    app = Starlette(
        routes=[Route("/v1/boom", boom), Route("/other", boom)],
        exception_handlers={Exception: scoped(server_error_response)},
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        message = assert_openai_error(await client.get("/v1/boom"), 500, "internal_error")
        assert "secret" not in message
        assert_problem(await client.get("/other"), 500)
    assert "secret detail" in caplog.text


async def test_sampling_fields_reach_anthropic_in_its_own_terms(client, auth, claude):
    agent = (await client.post("/api/v1/agents", json={"name": "C", "model": "claude"}, headers=auth)).json()
    response = await chat(client, auth, agent["id"], temperature=1.5, top_p=0.5, max_tokens=64, stop=["END"])
    assert response.status_code == 200, response.text
    sent = claude[1].requests[-1]
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"], sent["stop_sequences"]) == (1.0, 0.5, 64, ["END"])


async def test_v1_content_is_never_written_to_disk_or_logs(client, auth, lena, settings, caplog):
    secret_text = "my-very-private-openai-sentence"
    assert (await chat(client, auth, lena["id"], secret_text)).status_code == 200
    assert (await chat(client, auth, lena["id"], secret_text, stream=True)).status_code == 200
    assert await holders_of(settings, secret_text) == []
    assert secret_text not in caplog.text


async def test_a_500_under_v1_is_logged_with_the_route_template(client, auth, services, monkeypatch, caplog):
    async def broken(*args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services.storage.agents, "get", broken)
    with caplog.at_level(logging.ERROR):
        response = await client.get("/v1/models/agt_0123secret", headers=auth)
    assert_openai_error(response, 500, "internal_error")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("novaro_lite")]  # the server's
    assert "unhandled error on GET /v1/models/{id}" in lines and not any("agt_0123secret" in line for line in lines)
