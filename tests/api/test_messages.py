"""POST /api/v1/messages against real fake OpenAI-compatible and Anthropic servers on loopback ports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Secret

from novaro_lite.config.settings import ProviderSettings, Settings
from tests.fakes.engines import holders_of
from tests.fakes.llm import API_KEY, Recorder, anthropic_app, openai_app
from tests.fakes.serve import serve_in_thread
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC).timestamp()  # a Wednesday; 09:00 in Berlin


@pytest.fixture(scope="module")
def fake_servers() -> Iterator[dict[str, tuple[str, Recorder]]]:
    """Both fakes, started once for the module; each test gets their recorders fresh."""
    openai_recorder, anthropic_recorder = Recorder(), Recorder()
    with (
        serve_in_thread(openai_app(openai_recorder)) as openai_url,
        serve_in_thread(anthropic_app(anthropic_recorder)) as anthropic_url,
    ):
        yield {"openai": (openai_url, openai_recorder), "anthropic": (anthropic_url, anthropic_recorder)}


def _fresh(fake: tuple[str, Recorder]) -> tuple[str, Recorder]:
    url, recorder = fake
    recorder.reset()
    return url, recorder


@pytest.fixture
def openai_fake(fake_servers) -> tuple[str, Recorder]:
    return _fresh(fake_servers["openai"])


@pytest.fixture
def anthropic_fake(fake_servers) -> tuple[str, Recorder]:
    return _fresh(fake_servers["anthropic"])


@pytest.fixture
def settings(tmp_path: Path, database_url: str, openai_fake, anthropic_fake) -> Settings:
    key = Secret(API_KEY)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        providers={
            "fake": ProviderSettings(base_url=openai_fake[0] + "/v1", api_key=key, model="echo", timeout_seconds=1),
            "claude": ProviderSettings(kind="anthropic", base_url=anthropic_fake[0], api_key=key, model="echo"),
            "nokey": ProviderSettings(base_url=openai_fake[0] + "/v1", model="echo"),
            "down": ProviderSettings(base_url="http://127.0.0.1:9/v1", model="echo", max_retries=0),
        },
    )


@pytest.fixture
def app(settings: Settings):
    from novaro_lite.app import create_app

    return create_app(settings, clock=lambda: NOW)


@pytest.fixture
async def started(app):
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(started) -> Any:
    transport = httpx.ASGITransport(app=started, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def services(started):
    return started.state.services


async def new_agent(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Lena", "persona": "A baker in Kreuzberg.", "timezone": "Europe/Berlin"} | fields
    response = await client.post("/api/v1/agents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def ask(client, auth, agent_id: str, text: str = "Hi there", **extra: Any):
    body = {"agentId": agent_id, "messages": [{"role": "user", "content": text}]} | extra
    return await client.post("/api/v1/messages", json=body, headers=auth)


def sse_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_openai_reply_comes_back_as_timed_bubbles_with_usage(client, auth, openai_fake):
    agent = await new_agent(client, auth, model="fake/echo")
    history = [
        {"role": "user", "content": "Morning!", "createdAt": int(NOW) - 120},
        {"role": "assistant", "content": "Hey you"},
        {"role": "user", "content": "Got bread?"},
    ]
    response = await client.post("/api/v1/messages", json={"agentId": agent["id"], "messages": history}, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"].startswith("msg_") and body["agentId"] == agent["id"]
    assert [m["content"] for m in body["messages"]] == ["Echo: Got bread?", "Second bubble.", "Third bubble."]
    times = [m["createdAt"] for m in body["messages"]]
    assert times[0] == int(NOW) and times[0] < times[1] < times[2]
    assert body["usage"] == {"provider": "fake", "model": "echo", "promptTokens": 11, "completionTokens": 7}
    sent = openai_fake[1].requests[-1]
    assert sent["model"] == "echo"
    assert sent["messages"][0]["role"] == "system"
    assert "You are Lena." in sent["messages"][0]["content"]
    assert "Wednesday, 25 November 2026, 09:00 where you are (Europe/Berlin)" in sent["messages"][0]["content"]
    assert sent["messages"][1] == {"role": "user", "content": "[sent Wed 25 Nov 08:58] Morning!"}
    assert sent["messages"][2:] == [
        {"role": "assistant", "content": "Hey you"},
        {"role": "user", "content": "Got bread?"},
    ]
    assert openai_fake[1].headers[-1]["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(("wpm", "gaps"), [(12, [1 + 14, 1 + 13]), (None, [0, 0])])
async def test_realtime_bubbles_are_spaced_at_the_agents_own_typing_speed(client, auth, wpm, gaps):
    """Every agent typed at one fixed 6 characters a second, even one whose typingSpeedWpm says it does not type."""
    agent = await new_agent(client, auth, model="fake/echo", typingSpeedWpm=wpm)  # 12 wpm: a character a second
    body = {"agentId": agent["id"], "messages": [{"role": "user", "content": "hi"}]}
    reply = (await client.post("/api/v1/messages", json=body, headers=auth)).json()
    times = [message["createdAt"] for message in reply["messages"]]
    assert [later - earlier for earlier, later in zip(times, times[1:], strict=False)] == gaps  # after a 1 s pause


async def test_a_one_to_one_reply_starts_now_whatever_the_stamps_of_the_replies_before(client, auth):
    """Stamps from after the previous speaker's bubbles are for group turns: in a chat whose last reply was
    typed ahead of now, each reply started later and later (0, 78, 156 … s ahead after ten turns)."""
    agent = await new_agent(client, auth, model="fake/echo")
    history = [{"role": "assistant", "content": "Hi!", "createdAt": int(NOW) + 60},
               {"role": "user", "content": "Hey", "createdAt": int(NOW)}]  # fmt: skip
    reply = await client.post("/api/v1/messages", json={"agentId": agent["id"], "messages": history}, headers=auth)
    assert reply.json()["messages"][0]["createdAt"] == int(NOW)


async def test_the_prompts_sent_tag_copied_by_a_model_never_reaches_the_user(client, auth):
    agent = await new_agent(client, auth, model="fake/sent-tag")
    body = {"agentId": agent["id"], "messages": [{"role": "user", "content": "Hi"}]}
    whole = (await client.post("/api/v1/messages", json=body, headers=auth)).json()
    assert [message["content"] for message in whole["messages"]] == ["Hey!", "What's up?"]
    events = sse_events(await client.post("/api/v1/messages", json=body | {"stream": True}, headers=auth))
    shown = "".join(data["text"] for name, data in events if name == "delta")
    assert shown == "Hey!\n\nWhat's up?"  # the deltas a client shows as they come say what the bubbles say
    completion = {"model": agent["id"], "messages": body["messages"]}
    plain = (await client.post("/v1/chat/completions", json=completion, headers=auth)).json()
    assert plain["choices"][0]["message"]["content"] == shown
    streamed = await client.post("/v1/chat/completions", json=completion | {"stream": True}, headers=auth)
    chunks = [json.loads(line.removeprefix("data: ")) for line in streamed.text.split("\n\n")[:-2]]
    assert "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks) == shown


async def test_v1_streams_the_same_text_as_its_whole_reply_when_a_dropped_tag_precedes_a_fence(client, auth):
    """/v1 re-split the streamed text and saw a code fence the bubble splitter had not (the tag before it was
    gone): its streamed content kept a "\n \n" the whole reply had not."""
    agent = await new_agent(client, auth, model="fake/tag-fence", maxBubbles=4)
    completion = {"model": agent["id"], "messages": [{"role": "user", "content": "Hi"}]}
    plain = (await client.post("/v1/chat/completions", json=completion, headers=auth)).json()
    streamed = await client.post("/v1/chat/completions", json=completion | {"stream": True}, headers=auth)
    chunks = [json.loads(line.removeprefix("data: ")) for line in streamed.text.split("\n\n")[:-2]]
    content = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    assert content == plain["choices"][0]["message"]["content"]


async def test_a_reasoning_models_think_block_never_reaches_the_user(client, auth):
    """A <think> block was delivered as the first bubbles, and on /v1 as the reply's text."""
    agent = await new_agent(client, auth, model="fake/thinking")
    body = {"agentId": agent["id"], "messages": [{"role": "user", "content": "Dinner?"}]}
    whole = (await client.post("/api/v1/messages", json=body, headers=auth)).json()
    assert [message["content"] for message in whole["messages"]] == ["Pasta!", "Come over at 8."]
    events = sse_events(await client.post("/api/v1/messages", json=body | {"stream": True}, headers=auth))
    assert "think" not in "".join(data.get("text", "") for name, data in events if name == "delta")
    assert events[0] == ("delta", {"text": ""})  # the stream opens while the model thinks, not after
    assert [data["content"] for name, data in events if name == "message"] == ["Pasta!", "Come over at 8."]


async def test_anthropic_reply_uses_messages_api_shape(client, auth, anthropic_fake):
    agent = await new_agent(client, auth, model="claude/echo", maxBubbles=2)
    response = await ask(client, auth, agent["id"], "Hallo")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["content"] for m in body["messages"]] == ["Echo: Hallo", "Second bubble.\n\nThird bubble."]
    assert body["usage"] == {"provider": "claude", "model": "echo", "promptTokens": 13, "completionTokens": 9}
    sent, headers = anthropic_fake[1].requests[-1], anthropic_fake[1].headers[-1]
    assert "You are Lena." in sent["system"] and sent["max_tokens"] == 1024
    assert sent["messages"] == [{"role": "user", "content": "Hallo"}]
    assert headers["x-api-key"] == API_KEY and headers["anthropic-version"] == "2023-06-01"


@pytest.mark.parametrize("model", ["fake/echo", "claude/echo"])
async def test_streaming_sends_deltas_then_bubbles_then_done(client, auth, model):
    agent = await new_agent(client, auth, model=model)
    whole = (await ask(client, auth, agent["id"])).json()
    response = await ask(client, auth, agent["id"], stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-accel-buffering"] == "no"
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "delta" and names[-1] == "done" and names.count("message") == 3
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text == "Echo: Hi there\n\nSecond bubble.\n\nThird bubble."
    assert [data for name, data in events if name == "message"] == whole["messages"]
    assert events[-1][1]["usage"] == whole["usage"] and events[-1][1]["agentId"] == agent["id"]


@pytest.mark.parametrize(
    ("model", "detail"),
    [
        ("fake/stream-error", "failed mid-stream"),
        ("claude/stream-error", "failed mid-stream"),
        ("fake/stream-truncated", "ended its stream early"),
        ("claude/stream-truncated", "ended its stream early"),
        ("fake/stream-malformed", "not a chat completion"),
        ("claude/stream-malformed", "not an Anthropic message"),
    ],
)
async def test_failure_mid_stream_is_an_error_event(client, auth, model, detail):
    agent = await new_agent(client, auth, model=model)
    events = sse_events(await ask(client, auth, agent["id"], stream=True))
    assert events[0][0] == "delta"
    assert "done" not in [name for name, _ in events]
    name, problem = events[-1]
    assert name == "error" and problem["status"] == 502 and detail in problem["detail"]


async def test_failure_before_the_stream_starts_is_a_plain_problem(client, auth):
    agent = await new_agent(client, auth, model="fake/fail-401")
    assert_problem(await ask(client, auth, agent["id"], stream=True), 502, "rejected its credentials")


@pytest.mark.parametrize(
    ("model", "status", "detail"),
    [
        ("fake/slow", 504, "'fake' did not answer within 1 s"),
        ("fake/fail-500", 502, "failed with HTTP 500 after 3 attempt(s)"),
        ("fake/fail-401", 502, "'fake' rejected its credentials"),
        ("fake/fail-400", 502, "'fake' refused the request (HTTP 400): the messages exceed this model's context"),
        ("fake/fail-400-nul", 502, "(HTTP 400): bad\ufffdrequest \ufffd"),  # kept as a last error: no NUL
        ("claude/fail-400", 502, "(HTTP 400): the messages exceed this model's context of 8192 tokens"),
        ("nokey/echo", 502, "'nokey' rejected its credentials"),
        ("fake/rate-limit", 503, "rate limiting"),
        ("fake/malformed", 502, "not a chat completion"),
        ("fake/garbage", 502, "not JSON"),
        ("fake/deep", 502, "not JSON"),
        ("claude/deep", 502, "not JSON"),
        ("fake/empty", 502, "empty reply"),
        ("claude/malformed", 502, "not an Anthropic message"),
        ("claude/fail-401", 502, "'claude' rejected its credentials"),
        ("down/echo", 502, "'down' could not be reached"),
    ],
)
async def test_upstream_failures_map_to_clear_problems(client, auth, model, status, detail):
    agent = await new_agent(client, auth, model=model)
    body = assert_problem(await ask(client, auth, agent["id"]), status, detail)
    assert API_KEY not in json.dumps(body)


async def test_upstream_429_after_retries_is_503_with_retry_after(client, auth, openai_fake):
    agent = await new_agent(client, auth, model="fake/rate-limit")
    response = await ask(client, auth, agent["id"])
    assert_problem(response, 503, "after 3 attempt(s)")
    assert int(response.headers["retry-after"]) >= 1
    assert openai_fake[1].attempts["rate-limit"] == 3


async def test_upstream_asking_to_wait_longer_than_a_call_can_is_503_at_once(client, auth, openai_fake):
    agent = await new_agent(client, auth, model="fake/rate-limit-long")
    response = await ask(client, auth, agent["id"])
    assert_problem(response, 503, "after 1 attempt(s)")
    assert response.headers["retry-after"] == "120"
    assert openai_fake[1].attempts["rate-limit-long"] == 1


async def test_upstream_5xx_is_retried_until_it_answers(client, auth, openai_fake):
    agent = await new_agent(client, auth, model="fake/flaky")
    assert (await ask(client, auth, agent["id"])).status_code == 200
    assert openai_fake[1].attempts["flaky"] == 2


async def test_demo_provider_answers_in_character_offline_and_deterministically(client, auth):
    agent = await new_agent(client, auth, location="Berlin")
    first = await ask(client, auth, agent["id"], "Do you like rye bread?")
    assert first.status_code == 200
    body = first.json()
    text = "\n\n".join(m["content"] for m in body["messages"])
    assert "Lena here" in text and "09:00 on Wednesday in Berlin" in text and "Do you like rye bread?" in text
    assert "demo model" in text
    assert body["usage"]["provider"] == "demo"
    assert (await ask(client, auth, agent["id"], "Do you like rye bread?")).json()["messages"] == body["messages"]


async def test_demo_provider_quotes_the_message_not_its_sent_tag(client, auth):
    agent = await new_agent(client, auth)
    body = {"agentId": agent["id"], "messages": [{"role": "user", "content": "Ping", "createdAt": int(NOW) - 60}]}
    reply = (await client.post("/api/v1/messages", json=body, headers=auth)).json()
    assert 'You said: "Ping"' in reply["messages"][1]["content"]


@pytest.mark.parametrize(
    ("messages", "where"),
    [
        ([], "messages"),
        ([{"role": "system", "content": "x"}], "messages.0.role"),
        ([{"role": "user", "content": ""}], "messages.0.content"),
        ([{"role": "user", "content": "x" * 20_001}], "messages.0.content"),
        ([{"role": "user", "content": "x"}] * 201, "messages"),
        ([{"role": "user", "content": "x", "createdAt": "yesterday"}], "messages.0.createdAt"),
    ],
)
async def test_bad_message_requests_are_422_naming_the_field(client, auth, messages, where):
    agent = await new_agent(client, auth)
    body = {"agentId": agent["id"], "messages": messages}
    assert_problem(await client.post("/api/v1/messages", json=body, headers=auth), 422, where)


async def test_unknown_agent_is_404_and_unknown_context_is_422(client, auth):
    assert_problem(await ask(client, auth, "agt_missing"), 404, "agt_missing")
    agent = await new_agent(client, auth)
    body = assert_problem(await ask(client, auth, agent["id"], contextIds=["ctx_nope"]), 422, "ctx_nope")
    assert body["errors"][0]["loc"] == ["body", "contextIds", 0]


async def test_contexts_reach_the_prompt_by_name_agents_first_then_the_requests(client, auth, openai_fake):
    async def context(name: str, content: str) -> str:
        created = await client.post("/api/v1/contexts", json={"name": name, "content": content}, headers=auth)
        return str(created.json()["id"])

    menu, hours, offer = (
        await context("Menu", "Rye bread."),
        await context("Hours", "7-19."),
        await context("Offer", "2 for 1"),
    )
    agent = await new_agent(client, auth, model="fake/echo", contextIds=[menu, hours])
    assert (await ask(client, auth, agent["id"], contextIds=[offer, menu])).status_code == 200
    system = openai_fake[1].requests[-1]["messages"][0]["content"]
    positions = [system.index(f"Background you know ({name}):") for name in ("Menu", "Hours", "Offer")]
    assert positions == sorted(positions) and system.count("(Menu)") == 1
    assert "Rye bread." in system and "2 for 1" in system


async def test_realtime_content_is_never_written_to_disk_or_logs(client, auth, settings, caplog):
    agent = await new_agent(client, auth, model="fake/echo")
    secret_text = "my-very-private-realtime-sentence"
    assert (await ask(client, auth, agent["id"], secret_text)).status_code == 200
    assert await holders_of(settings, secret_text) == []
    assert secret_text not in caplog.text


@pytest.mark.parametrize("model", ["fake/surrogate", "claude/surrogate"])
async def test_a_lone_surrogate_from_the_model_arrives_as_a_replacement_character(client, auth, model):
    agent = await new_agent(client, auth, model=model)
    whole = await ask(client, auth, agent["id"])
    assert whole.status_code == 200, whole.text
    assert [m["content"] for m in whole.json()["messages"]] == ["Lone \ufffd half.", "Second bubble."]
    streamed = await ask(client, auth, agent["id"], stream=True)
    events = sse_events(streamed)
    assert events[-1][0] == "done", events[-1]
    bubbles = [data["content"] for name, data in events if name == "message"]
    assert bubbles == ["Lone \ufffd half.", "Second bubble."], events


@pytest.mark.parametrize("model", ["fake/odd-usage", "claude/odd-usage"])
async def test_token_counts_that_are_no_counts_are_reported_as_zero(client, auth, model):
    agent = await new_agent(client, auth, model=model)
    answered = await ask(client, auth, agent["id"])
    assert answered.status_code == 200, answered.text
    usage = answered.json()["usage"]
    assert (usage["promptTokens"], usage["completionTokens"]) == (0, 0)
