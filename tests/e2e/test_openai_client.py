"""The official `openai` package against a live novaro-lite: agents as models, plain, streamed, concurrent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.datastructures import Secret

from novaro_lite.app import create_app
from novaro_lite.config.settings import ProviderSettings, SchedulerSettings, Settings
from novaro_lite.services import Services
from tests.fakes.llm import API_KEY, Recorder, openai_app
from tests.fakes.serve import serve_in_thread


@contextlib.contextmanager
def _server(fake_url: str, data_dir: Path) -> Iterator[tuple[str, str]]:
    """novaro-lite on a random port with the fake provider as `fake`; yields its URL and a token."""
    provider = ProviderSettings(base_url=f"{fake_url}/v1", api_key=Secret(API_KEY), model="echo")
    settings = Settings(data_dir=data_dir, providers={"fake": provider}, scheduler=SchedulerSettings(enabled=False))
    app = create_app(settings)

    async def token() -> str:
        async with app.router.lifespan_context(app):
            services: Services = app.state.services
            return (await services.storage.tokens.create("sdk", "acme", None))[1]

    secret = asyncio.run(token())
    with serve_in_thread(app, lifespan="on") as base:
        yield base, secret


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real server answering through a fake OpenAI-compatible provider; a token; two agents."""
    recorder = Recorder()
    with (
        serve_in_thread(openai_app(recorder)) as fake_url,
        _server(fake_url, tmp_path_factory.mktemp("openai") / "data") as (base, token),
    ):
        headers = {"Authorization": f"Bearer {token}"}
        lena = httpx.post(f"{base}/api/v1/agents", headers=headers, json={"name": "Lena", "model": "fake"}).json()
        ana = httpx.post(f"{base}/api/v1/agents", headers=headers, json={"name": "Ana", "model": "fake"}).json()
        yield {"base": base, "token": token, "lena": lena, "ana": ana, "recorder": recorder}


@pytest.fixture
def sdk(live) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{live['base']}/v1", api_key=live["token"], max_retries=0) as client:
        yield client


def test_models_list_the_accounts_agents(live, sdk):
    models = sdk.models.list()
    ids = [model.id for model in models.data]
    assert ids == [live["lena"]["id"], live["ana"]["id"]]
    first = models.data[0]
    assert first.object == "model" and first.owned_by == "acme" and first.created == live["lena"]["createdAt"]
    assert sdk.models.retrieve(live["ana"]["id"]).id == live["ana"]["id"]


def test_chat_completion_is_the_agents_reply_with_usage(live, sdk):
    answer = sdk.chat.completions.create(
        model=live["lena"]["id"],
        messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hallo!"}],
        temperature=0.5,
        max_tokens=50,
        stop=["\n\n\n"],
        user="user-42",
    )
    assert answer.object == "chat.completion" and answer.model == live["lena"]["id"]
    assert answer.choices[0].message.role == "assistant" and answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content == "Echo: Hallo!\n\nSecond bubble.\n\nThird bubble."
    assert answer.usage is not None and (answer.usage.prompt_tokens, answer.usage.total_tokens) == (11, 18)
    sent = live["recorder"].requests[-1]
    system = sent["messages"][0]["content"]
    assert system.startswith("You are Lena.") and system.rstrip().endswith("Answer briefly.")
    assert (sent["temperature"], sent["max_tokens"], sent["stop"]) == (0.5, 50, ["\n\n\n"])


def test_agent_by_unique_name_and_streaming_with_usage(live, sdk):
    stream = sdk.chat.completions.create(
        model="agent:Ana",
        messages=[{"role": "user", "content": "Wie geht's?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1 and chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "Echo: Wie geht's?\n\nSecond bubble.\n\nThird bubble."
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 7


def test_unknown_agent_is_a_404_in_openais_shape(live, sdk):
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model="agt_nope", messages=[{"role": "user", "content": "hi"}])
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "model_not_found" and error["param"] == "model" and "agt_nope" in error["message"]
    assert error["type"] == "invalid_request_error"


def test_bad_token_and_unsupported_fields_use_openais_shape(live, sdk):
    with pytest.raises(openai.AuthenticationError) as caught:
        with openai.OpenAI(base_url=f"{live['base']}/v1", api_key="nl_wrong", max_retries=0) as stranger:
            stranger.models.list()
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(
            model=live["lena"]["id"],
            messages=[{"role": "user", "content": "hi"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        )
    assert isinstance(refused.value.body, dict) and refused.value.body["param"] == "tools"


def test_concurrent_async_calls_each_get_their_own_reply(live):
    async def main() -> list[str]:
        async with openai.AsyncOpenAI(base_url=f"{live['base']}/v1", api_key=live["token"], max_retries=0) as sdk:
            answers = await asyncio.gather(
                *(
                    sdk.chat.completions.create(
                        model=live["lena"]["id"], messages=[{"role": "user", "content": f"number {n}"}]
                    )
                    for n in range(16)
                )
            )
        return [answer.choices[0].message.content or "" for answer in answers]

    replies = asyncio.run(main())
    assert [reply.split("\n")[0] for reply in replies] == [f"Echo: number {n}" for n in range(16)]
