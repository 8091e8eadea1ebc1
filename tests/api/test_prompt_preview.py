"""POST /api/v1/agents/{id}/prompt-preview: the prompt a reply would be generated from, the model not called."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.datastructures import Secret

from novaro_lite.config.settings import ProviderSettings, SchedulerSettings, Settings
from tests.fakes.llm import API_KEY
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fake) -> Settings:
    provider = ProviderSettings(base_url=fake[0] + "/v1", api_key=Secret(API_KEY), model="echo")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        providers={"fake": provider},
    )


def _timeless(system: str) -> str:
    """The prompt without its clock line, which may turn a minute between two calls."""
    return "\n".join(line for line in system.splitlines() if not line.startswith("It is now "))


async def test_preview_is_the_prompt_a_reply_gets_without_calling_the_model(client, auth, fake):
    always = {"name": "Shop", "content": "{{char}} sells rye bread."}
    keyed = {"name": "Dog", "content": "A dog called Bruno.", "keys": ["bruno", "dog"]}
    shop, dog = [(await client.post("/api/v1/contexts", json=c, headers=auth)).json() for c in (always, keyed)]
    agent = {
        "name": "Lena",
        "persona": "{{char}} bakes for {{user}}.",
        "greeting": "Morning!",
        "model": "fake",
        "contextIds": [shop["id"], dog["id"]],
    }
    lena = (await client.post("/api/v1/agents", json=agent, headers=auth)).json()
    path = f"/api/v1/agents/{lena['id']}/prompt-preview"
    calls = len(fake[1].requests)

    new_chat = (await client.post(path, json={}, headers=auth)).json()
    assert new_chat["model"] == "fake/echo" and new_chat["messages"] == []
    assert "Lena bakes for User." in new_chat["system"] and "Morning!" in new_chat["system"]  # macros filled
    assert "Lena sells rye bread." in new_chat["system"] and "A dog called Bruno." not in new_chat["system"]
    assert [(c["name"], c["keys"], c["entered"], c["why"]) for c in new_chat["contexts"]] == [
        ("Shop", [], True, "always"),
        ("Dog", ["bruno", "dog"], False, "no_key"),
    ]

    conversation = [{"role": "user", "content": "How is your DOG?", "createdAt": 1_800_000_000}]
    preview = (await client.post(path, json={"messages": conversation}, headers=auth)).json()
    assert [c["entered"] for c in preview["contexts"]] == [True, True]
    assert preview["messages"][0]["role"] == "user" and preview["messages"][0]["content"].endswith("How is your DOG?")
    assert len(fake[1].requests) == calls  # previews call no model

    sent = await client.post("/api/v1/messages", json={"agentId": lena["id"], "messages": conversation}, headers=auth)
    assert sent.status_code == 200, sent.text
    seen = fake[1].requests[-1]["messages"]
    assert _timeless(seen[0]["content"]) == _timeless(preview["system"])
    assert [m["content"] for m in seen[1:]] == [m["content"] for m in preview["messages"]]


async def test_preview_says_why_a_context_is_in_or_out(client, auth):
    """A context left out for its secondary keys was shown as "none of its keys occurs" though one did."""
    storm = {"name": "Storm", "content": "Ferries stop in storms.", "keys": ["storm"], "secondaryKeys": ["ferry"],
             "selective": True, "scanDepth": 2}  # fmt: skip
    context = (await client.post("/api/v1/contexts", json=storm, headers=auth)).json()
    mira = await client.post("/api/v1/agents", json={"name": "Mira", "contextIds": [context["id"]]}, headers=auth)
    path = f"/api/v1/agents/{mira.json()['id']}/prompt-preview"

    async def why(*texts: str) -> tuple[bool, str]:
        messages = [{"role": "user", "content": text} for text in texts]
        (used,) = (await client.post(path, json={"messages": messages}, headers=auth)).json()["contexts"]
        assert (used["keys"], used["secondaryKeys"], used["scanDepth"]) == (["storm"], ["ferry"], 2)
        return used["entered"], used["why"]

    assert await why("Storm is coming") == (False, "no_secondary_key")
    assert await why("Storm is coming, is the ferry on?") == (True, "key_and_secondary")
    assert await why("Storm and ferry", "hi", "hi") == (False, "no_key")  # out of its last two messages


async def test_preview_of_an_unknown_agent_or_context_is_refused(client, auth):
    missing = await client.post("/api/v1/agents/agt_nope/prompt-preview", json={}, headers=auth)
    assert_problem(missing, 404, "agt_nope")
    lena = (await client.post("/api/v1/agents", json={"name": "Lena"}, headers=auth)).json()
    unknown = await client.post(
        f"/api/v1/agents/{lena['id']}/prompt-preview", json={"contextIds": ["ctx_nope"]}, headers=auth
    )
    assert assert_problem(unknown, 422)["errors"][0]["loc"] == ["body", "contextIds", 0]
