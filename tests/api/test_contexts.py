from __future__ import annotations

from typing import Any

import httpx
import pytest

from novaro_lite.services import Services
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio


async def new_context(client: httpx.AsyncClient, auth: dict[str, str], name: str, content: str) -> dict[str, Any]:
    response = await client.post("/api/v1/contexts", json={"name": name, "content": content}, headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_context_crud_and_pagination(client, auth):
    menu = await new_context(client, auth, "Menu", "Rye bread, cinnamon rolls.")
    hours = await new_context(client, auth, "Hours", "7 to 19, closed Mondays.")
    assert menu["id"].startswith("ctx_")
    assert (await client.get(f"/api/v1/contexts/{menu['id']}", headers=auth)).json() == menu
    first = (await client.get("/api/v1/contexts", params={"limit": 1}, headers=auth)).json()
    second = (await client.get("/api/v1/contexts", params={"cursor": first["nextCursor"]}, headers=auth)).json()
    assert [c["id"] for c in first["data"] + second["data"]] == [menu["id"], hours["id"]]
    changed = await client.patch(f"/api/v1/contexts/{menu['id']}", json={"content": "Only bread."}, headers=auth)
    assert changed.json()["content"] == "Only bread." and changed.json()["name"] == "Menu"
    assert (await client.delete(f"/api/v1/contexts/{menu['id']}", headers=auth)).status_code == 204
    assert_problem(await client.get(f"/api/v1/contexts/{menu['id']}", headers=auth), 404)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": "", "content": "x"}, "name"),
        ({"name": "n", "content": "x" * 50_001}, "content"),
        ({"name": "n", "content": "x", "keys": ["bread", "  "]}, "keys.1: a key must not be blank"),  # was always in
    ],
)
async def test_context_limits(client, auth, body, where):
    assert_problem(await client.post("/api/v1/contexts", json=body, headers=auth), 422, where)


async def test_agents_attach_contexts_by_id_and_unknown_ids_are_422(client, auth, services: Services):
    menu = await new_context(client, auth, "Menu", "Bread.")
    agent = await client.post("/api/v1/agents", json={"name": "Lena", "contextIds": [menu["id"]]}, headers=auth)
    assert agent.json()["contextIds"] == [menu["id"]]
    body = assert_problem(
        await client.post("/api/v1/agents", json={"name": "X", "contextIds": [menu["id"], "ctx_nope"]}, headers=auth),
        422,
        "ctx_nope",
    )
    assert body["errors"][0]["loc"] == ["body", "contextIds", 1]
    _, other = await services.storage.tokens.create("o", "globex", None)
    theirs = {"Authorization": f"Bearer {other}"}
    assert_problem(await client.get(f"/api/v1/contexts/{menu['id']}", headers=theirs), 404)
    assert (await client.get("/api/v1/contexts", headers=theirs)).json()["data"] == []
    foreign = await client.post("/api/v1/agents", json={"name": "Y", "contextIds": [menu["id"]]}, headers=theirs)
    assert_problem(foreign, 422, menu["id"])


async def test_deleting_an_attached_context_is_409_naming_agents_unless_forced(client, auth):
    menu = await new_context(client, auth, "Menu", "Bread.")
    agent = (
        await client.post("/api/v1/agents", json={"name": "Lena", "contextIds": [menu["id"]]}, headers=auth)
    ).json()
    refused = assert_problem(await client.delete(f"/api/v1/contexts/{menu['id']}", headers=auth), 409, "Lena")
    assert refused["agents"] == [{"id": agent["id"], "name": "Lena"}]  # named, for a question in plain words
    forced = await client.delete(f"/api/v1/contexts/{menu['id']}", params={"force": "true"}, headers=auth)
    assert forced.status_code == 204
    assert (await client.get(f"/api/v1/agents/{agent['id']}", headers=auth)).json()["contextIds"] == []


async def test_patching_an_agents_contexts_replaces_them_in_order(client, auth):
    a = await new_context(client, auth, "A", "a")
    b = await new_context(client, auth, "B", "b")
    agent = (await client.post("/api/v1/agents", json={"name": "Lena", "contextIds": [a["id"]]}, headers=auth)).json()
    patched = await client.patch(f"/api/v1/agents/{agent['id']}", json={"contextIds": [b["id"], a["id"]]}, headers=auth)
    assert patched.json()["contextIds"] == [b["id"], a["id"]]
    assert (await client.get(f"/api/v1/agents/{agent['id']}", headers=auth)).json()["contextIds"] == [b["id"], a["id"]]
    deleted = await client.delete(f"/api/v1/agents/{agent['id']}", headers=auth)
    assert deleted.status_code == 204
    assert (await client.delete(f"/api/v1/contexts/{a['id']}", headers=auth)).status_code == 204  # no longer attached


async def test_keyword_context_fields_default_change_and_are_bounded(client, auth):
    plain = await new_context(client, auth, "Menu", "Bread.")
    assert (plain["keys"], plain["caseSensitive"], plain["secondaryKeys"], plain["selective"], plain["scanDepth"]) == (
        [], False, [], False, 4
    )  # fmt: skip
    body = {"name": "Storms", "content": "From the north-west.", "keys": ["storm", "gale"], "caseSensitive": True,
            "secondaryKeys": ["ferry"], "selective": True, "scanDepth": 2}  # fmt: skip
    keyed = (await client.post("/api/v1/contexts", json=body, headers=auth)).json()
    assert {key: keyed[key] for key in body} == body
    changed = await client.patch(f"/api/v1/contexts/{keyed['id']}", json={"scanDepth": 10}, headers=auth)
    assert changed.json()["scanDepth"] == 10 and changed.json()["keys"] == ["storm", "gale"]
    cleared = await client.patch(f"/api/v1/contexts/{keyed['id']}", json={"keys": []}, headers=auth)
    assert cleared.json()["keys"] == [] and cleared.json()["content"] == "From the north-west."
    for bad, where in (
        ({"scanDepth": 0}, "scanDepth"),
        ({"scanDepth": 1001}, "scanDepth"),
        ({"keys": ["k"] * 51}, "keys"),
        ({"keys": [""]}, "keys"),
        ({"secondaryKeys": ["x" * 101]}, "secondaryKeys"),
        ({"selective": None}, "selective"),
    ):
        assert_problem(await client.patch(f"/api/v1/contexts/{keyed['id']}", json=bad, headers=auth), 422, where)


async def test_a_big_lorebook_over_a_long_chat_is_matched_off_the_event_loop(client, auth, monkeypatch):
    """1,000 keys looked for in 400,000 characters took the event loop for a fifth of a second (a 300-entry
    lorebook over a 900 KB chat, ten seconds) and every other request of the server waited. A short chat is
    still matched in place, where a thread would cost more than the matching."""
    import threading

    from novaro_lite.domain.contexts import triggers as real

    on_loop: list[bool] = []

    def triggers(*args: Any) -> Any:
        on_loop.append(threading.current_thread() is threading.main_thread())
        return real(*args)

    monkeypatch.setattr("novaro_lite.generation.triggers", triggers)
    ids = []
    for index in range(20):
        keys = [f"never{index}x{key}" for key in range(50)]
        body = {"name": f"Lore {index}", "content": "x", "keys": keys, "scanDepth": 1000}
        ids.append((await client.post("/api/v1/contexts", json=body, headers=auth)).json()["id"])
    agent = (await client.post("/api/v1/agents", json={"name": "Ann", "contextIds": ids}, headers=auth)).json()
    long_chat = [{"role": "user", "content": "word " * 800}] * 100
    for messages in (long_chat, [{"role": "user", "content": "hi"}]):
        body = {"agentId": agent["id"], "messages": messages}
        response = await client.post("/api/v1/messages", json=body, headers=auth)
        assert response.status_code == 200, response.text
    assert on_loop == [False, True]
