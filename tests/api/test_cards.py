"""Character Card import and export over HTTP: V2 and V3, JSON and PNG, lossless round trips, clear 422s."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Secret

from novaro_lite.config.settings import ProviderSettings, SchedulerSettings, Settings
from novaro_lite.domain.png import text_chunks
from tests.fakes.cards import card_png, chunk, risu_v3_card, v1_card, v2_card, v3_card
from tests.fakes.llm import API_KEY
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
PNG = {"Content-Type": "image/png"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fake) -> Settings:
    provider = ProviderSettings(base_url=fake[0] + "/v1", api_key=Secret(API_KEY), model="echo")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        providers={"fake": provider},
    )


async def import_card(client: httpx.AsyncClient, auth: dict[str, str], card: Any, **kwargs: Any) -> httpx.Response:
    if isinstance(card, bytes):
        kind = PNG if card.startswith(b"\x89PNG") else {"Content-Type": "application/json"}
        return await client.post("/api/v1/agents/import", content=card, headers=auth | kind, **kwargs)
    return await client.post("/api/v1/agents/import", json=card, headers=auth, **kwargs)


async def test_v2_card_becomes_an_agent_with_its_fields_and_lorebook_contexts(client, auth):
    response = await import_card(client, auth, v2_card())
    assert response.status_code == 201, response.text
    agent = response.json()
    assert agent["name"] == "Mira" and agent["greeting"].startswith("*waves from the pier*")
    assert agent["persona"] == (
        "{{char}} is a lighthouse keeper on a windy island.\n\n"
        "Personality:\nDry humour, patient, curious about ships.\n\n"
        "Scenario:\n{{user}} arrives on the last ferry of the season."
    )
    assert agent["alternateGreetings"] == ["The lamp is lit. Tea?", "Another visitor! Mind the gulls."]
    assert agent["exampleMessages"].startswith("<START>") and agent["systemPrompt"].startswith("{{original}}")
    assert agent["postHistoryInstructions"] == "Keep replies under three sentences."
    assert (agent["tags"], agent["creator"], agent["characterVersion"]) == (
        ["slice of life", "island"],
        "someone",
        "1.2",
    )
    assert agent["creatorNotes"] == "Best with a slow-paced chat." and agent["nickname"] is None
    contexts = [(await client.get(f"/api/v1/contexts/{cid}", headers=auth)).json() for cid in agent["contextIds"]]
    # three active entries (the disabled one stays inert), in insertion_order: island, lamp, storm
    assert [c["name"] for c in contexts] == ["Mira: lore 2", "Lamp", "Mira: lore 3"]
    island, lamp, storm = contexts
    assert island["keys"] == [] and lamp["keys"] == ["lamp"] and lamp["scanDepth"] == 3
    assert storm == storm | {"keys": ["Storm"], "caseSensitive": True, "selective": True, "secondaryKeys": ["ferry"]}


async def test_a_preview_shows_what_an_import_would_create_and_creates_nothing(client, auth):
    """The dashboard shows this before "Create this agent": the server's reading, not a second one in JavaScript."""
    png = card_png([("ccv3", chunk(v3_card()))])
    preview = await client.post("/api/v1/agents/import/preview", content=png, headers=auth | PNG)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert (shown["spec"], shown["name"], shown["creator"], shown["tags"]) == (
        "chara_card_v3", "Mira", "someone", ["slice of life", "island"])  # fmt: skip
    assert shown["greeting"].startswith("*waves") and shown["persona"].startswith("{{char}} is a lighthouse keeper")
    assert shown["contexts"] == [
        {"name": "Mira: lore 2", "keys": []},  # constant: always on
        {"name": "Lamp", "keys": ["lamp"]},
        {"name": "Mira: lore 3", "keys": ["Storm"]},
    ]
    assert (shown["unusedEntries"], shown["hasPicture"]) == (2, True)  # the disabled entry and the regex one
    assert (await client.get("/api/v1/agents", headers=auth)).json()["data"] == []
    created = (await import_card(client, auth, png)).json()
    assert created["name"] == shown["name"] and len(created["contextIds"]) == len(shown["contexts"])
    bad = await client.post("/api/v1/agents/import/preview", json={"spec": "chara_card_v9"}, headers=auth)
    assert_problem(bad, 422, "spec")


async def test_v3_json_round_trips_without_loss(client, auth):
    card = v3_card()
    agent = (await import_card(client, auth, card)).json()
    assert agent["nickname"] == "Mimi"
    exported = await client.get(f"/api/v1/agents/{agent['id']}/card", headers=auth)
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/json"
    assert 'filename="Mira.json"' in exported.headers["content-disposition"]
    assert exported.json() == card


async def test_v2_json_round_trips_without_loss_as_v2(client, auth):
    agent = (await import_card(client, auth, v2_card())).json()
    exported = await client.get(f"/api/v1/agents/{agent['id']}/card?spec=v2", headers=auth)
    assert exported.json() == v2_card()
    v3 = (await client.get(f"/api/v1/agents/{agent['id']}/card", headers=auth)).json()
    assert v3["spec"] == "chara_card_v3" and v3["data"]["group_only_greetings"] == []
    assert all(entry["use_regex"] is False for entry in v3["data"]["character_book"]["entries"])


@pytest.mark.parametrize(("make", "keyword"), [(v2_card, "chara"), (v3_card, "ccv3")], ids=["v2-png", "v3-png"])
async def test_png_cards_round_trip_with_both_chunks(client, auth, make, keyword):
    image = card_png([("Title", "a picture"), (keyword, chunk(make()))])
    agent = (await import_card(client, auth, image)).json()
    exported = await client.get(f"/api/v1/agents/{agent['id']}/card?format=png", headers=auth)
    assert exported.status_code == 200 and exported.headers["content-type"] == "image/png"
    chunks = text_chunks(exported.content)
    cards = {key: json.loads(base64.b64decode(chunks[key])) for key in ("chara", "ccv3")}
    assert cards[keyword] == make()
    assert cards["chara"]["spec"] == "chara_card_v2" and cards["ccv3"]["spec"] == "chara_card_v3"
    again = (await import_card(client, auth, exported.content)).json()  # our own PNG imports again
    assert again["name"] == "Mira" and len(again["contextIds"]) == len(agent["contextIds"])


async def test_png_prefers_ccv3_over_chara(client, auth):
    old = v2_card() | {"data": v2_card()["data"] | {"name": "Old"}}
    agent = (await import_card(client, auth, card_png([("chara", chunk(old)), ("ccv3", chunk(v3_card()))]))).json()
    assert agent["name"] == "Mira"


async def test_a_plain_agent_exports_a_valid_card_with_its_contexts_as_lorebook(client, auth):
    keyed = (await client.post("/api/v1/contexts", json={"name": "Menu", "content": "Rye.", "keys": ["bread"]},
                               headers=auth)).json()  # fmt: skip
    always = (await client.post("/api/v1/contexts", json={"name": "Hours", "content": "7-19"}, headers=auth)).json()
    body = {"name": "Lena", "persona": "A baker.", "greeting": "Moin!", "contextIds": [keyed["id"], always["id"]]}
    agent = (await client.post("/api/v1/agents", json=body, headers=auth)).json()
    card = (await client.get(f"/api/v1/agents/{agent['id']}/card", headers=auth)).json()
    data = card["data"]
    assert card["spec_version"] == "3.0" and data["name"] == "Lena" and data["description"] == "A baker."
    assert (data["first_mes"], data["personality"], data["creation_date"]) == ("Moin!", "", agent["createdAt"])
    entries = data["character_book"]["entries"]
    assert [(e["name"], e["keys"], e["constant"], e["use_regex"]) for e in entries] == [
        ("Menu", ["bread"], False, False),
        ("Hours", [], True, False),
    ]
    renamed = await client.patch(f"/api/v1/agents/{agent['id']}", json={"persona": "A master baker."}, headers=auth)
    assert renamed.status_code == 200
    assert (await client.get(f"/api/v1/agents/{agent['id']}/card", headers=auth)).json()["data"]["description"] == (
        "A master baker."
    )


async def test_edits_after_import_show_in_the_export(client, auth):
    agent = (await import_card(client, auth, v2_card())).json()
    lamp = agent["contextIds"][1]
    await client.patch(f"/api/v1/contexts/{lamp}", json={"keys": ["light", "lamp"]}, headers=auth)
    await client.patch(f"/api/v1/agents/{agent['id']}", json={"name": "Mira Storm", "persona": "New."}, headers=auth)
    data = (await client.get(f"/api/v1/agents/{agent['id']}/card?spec=v2", headers=auth)).json()["data"]
    assert data["name"] == "Mira Storm"
    assert (data["description"], data["personality"], data["scenario"]) == ("New.", "", "")
    entry = next(e for e in data["character_book"]["entries"] if e.get("name") == "Lamp")
    assert entry["keys"] == ["light", "lamp"] and entry["priority"] == 10


@pytest.mark.parametrize(
    ("body", "where", "detail"),
    [
        (card_png([("Title", "no card here")]), ["body"], "no 'ccv3' or 'chara' tEXt chunk"),
        (card_png([("chara", "%%% not base64")]), ["body", "chara"], "not base64"),
        (card_png([("chara", "\u00e9abc")]), ["body", "chara"], "not base64"),  # non-ASCII: once a 500
        (b"[" * 200_000, ["body"], "not valid JSON"),  # nesting past the recursion limit: once a 500
        (b'{"spec": "chara_card_v2", "data": {"name": "A", "extensions": {"k": NaN}}}',
         ["body", "data", "extensions", "k"], "finite number"),
        (card_png([("ccv3", base64.b64encode(b"{nope").decode())]), ["body", "ccv3"], "not valid JSON"),
        (b"\x89PNG\r\n\x1a\nbroken", ["body"], "PNG is malformed"),
        (b"{not json", ["body"], "not valid JSON"),
        ({"spec": "chara_card_v1", "data": {}}, ["body", "spec"], "must be 'chara_card_v2' or 'chara_card_v3'"),
        ({"spec": "chara_card_v2", "data": []}, ["body", "data"], "must be a JSON object"),
        ({"spec": "chara_card_v2", "data": {"description": "no name"}}, ["body", "data", "name"], "Field required"),
        ({"spec": "chara_card_v2", "data": {"name": "x" * 101}}, ["body", "data", "name"], "at most 100"),
        ({"spec": "chara_card_v2", "data": {"name": "A", "tags": 5}}, ["body", "data", "tags"], "valid list"),
        ({"spec": "chara_card_v2", "data": {"name": "A", "description": "x" * 20_001}},
         ["body", "data", "description"], "scenario together (the agent's persona): String should have at most 20000"),
        ({"spec": "chara_card_v2",
          "data": {"name": "A", "character_book": {"entries": [{"keys": ["k"], "content": 5}]}}},
         ["body", "data", "character_book", "entries", 0, "content"], "must be a string"),
        ({"spec": "chara_card_v2", "data": {"name": "A", "character_book": {"entries": [{"content": "", "keys": 1}]}}},
         ["body", "data", "character_book", "entries", 0, "keys"], "list of strings"),
    ],
)  # fmt: skip
async def test_bad_cards_are_422_naming_what_is_wrong(client, auth, body, where, detail):
    problem = assert_problem(await import_card(client, auth, body), 422, detail)
    assert problem["errors"][0]["loc"] == where


async def test_png_chunks_are_read_as_card_tools_read_base64(client, auth):
    """Node's Buffer.from(…, "base64"), which card tools read with, takes line breaks, missing padding, the
    URL-safe alphabet and a byte order mark before the JSON; so does the import."""
    card = v2_card()
    plain = base64.b64encode(b"\xef\xbb\xbf" + json.dumps(card).encode()).decode()
    wrapped = "\n".join(plain[at : at + 76] for at in range(0, len(plain), 76)).rstrip("=")
    for text in (wrapped, plain.replace("+", "-").replace("/", "_")):
        response = await client.post("/api/v1/agents/import", content=card_png([("chara", text)]), headers=auth | PNG)
        assert response.status_code == 201, response.text
        assert response.json()["name"] == card["data"]["name"]


async def test_png_content_type_with_other_bytes_is_422(client, auth):
    response = await client.post("/api/v1/agents/import", content=b'{"spec": 1}', headers=auth | PNG)
    assert_problem(response, 422, "does not start with the PNG signature")


async def test_cards_up_to_5_mb_are_accepted_and_larger_are_413(client, auth):
    big = v2_card()
    big["data"]["extensions"]["blob"] = "x" * 4_000_000  # kept for the round trip, past the 1 MiB default limit
    response = await import_card(client, auth, big)
    assert response.status_code == 201, response.text[:300]
    too_big = v2_card()
    too_big["data"]["extensions"]["blob"] = "x" * 5_300_000
    assert_problem(await import_card(client, auth, too_big), 413, "5242880 bytes")


async def test_export_of_another_accounts_agent_is_404(client, auth, services):
    agent = (await import_card(client, auth, v2_card())).json()
    other = (await services.storage.tokens.create("other", "someone-else", None))[1]
    response = await client.get(f"/api/v1/agents/{agent['id']}/card", headers={"Authorization": f"Bearer {other}"})
    assert_problem(response, 404)


async def test_imported_card_drives_the_prompt_and_keyword_contexts(client, auth, fake):
    agent = (await import_card(client, auth, v3_card())).json()
    await client.patch(f"/api/v1/agents/{agent['id']}", json={"model": "fake"}, headers=auth)
    url, recorder = fake
    recorder.reset()

    async def system_for(*texts: str) -> str:
        messages = [{"role": "user" if n % 2 == 0 else "assistant", "content": t} for n, t in enumerate(texts)]
        response = await client.post(
            "/api/v1/messages", json={"agentId": agent["id"], "messages": messages}, headers=auth
        )
        assert response.status_code == 200, response.text
        return str(recorder.requests[-1]["messages"][0]["content"])

    first = await system_for("Hello there")
    assert first.startswith("You are Mira.") and "People call you Mimi." in first
    assert "Mimi is a lighthouse keeper" in first and "User arrives on the last ferry" in first
    assert "You made it before the storm, User!" in first  # the greeting, in a new chat
    assert "Only on days ending in y." in first and first.rstrip().endswith("Keep replies under three sentences.")
    assert "Never break the fourth wall." in first
    assert "forty sheep" in first  # constant entry: always
    assert "Fresnel" not in first and "north-west" not in first and "Regex entries" not in first
    lamp = await system_for("Is the LAMP old?")
    assert "Fresnel" in lamp  # case-insensitive key
    storm = await system_for("A storm is coming", "oh no", "and the ferry is late")
    assert "north-west" not in storm  # the key "Storm" is case-sensitive
    assert "You made it before the storm" not in storm  # not a new chat any more
    assert "north-west" not in await system_for("Storm!")  # selective: the secondary key "ferry" must occur too
    assert "north-west" in await system_for("Storm!", "hm", "the ferry")
    late = await system_for("lamp?", "a", "b", "c", "d")
    assert "Fresnel" not in late  # the key is beyond the card's scan_depth of 3


async def test_a_keyless_entry_stays_inert_and_round_trips_unchanged(client, auth):
    entries = [
        {"keys": [], "constant": False, "content": "secret lore", "enabled": True, "insertion_order": 0},
        {"keys": ["bread"], "content": "Sourdough.", "name": "   ", "enabled": True, "insertion_order": 1},
    ]
    card = {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": "Ines", "character_book": {"entries": entries}}}  # fmt: skip
    agent = (await import_card(client, auth, card)).json()
    contexts = (await client.get("/api/v1/contexts", headers=auth)).json()["data"]
    assert [c["content"] for c in contexts] == ["Sourdough."]  # the keyless entry never enters a prompt
    assert contexts[0]["name"].strip() and contexts[0]["keys"] == ["bread"]
    assert agent["contextIds"] == [contexts[0]["id"]]
    exported = (await client.get(f"/api/v1/agents/{agent['id']}/card", params={"spec": "v2"}, headers=auth)).json()
    assert exported["data"]["character_book"]["entries"][0] == entries[0] | {"extensions": {}}  # as V2 requires


async def test_a_v1_card_imports_with_its_legacy_keys_kept(client, auth):
    response = await import_card(client, auth, v1_card())
    assert response.status_code == 201, response.text
    agent = response.json()
    assert (agent["name"], agent["greeting"]) == ("Tomas", "*checks his watch* You're late, {{user}}.")
    assert agent["persona"] == (
        "{{char}} runs the ferry between the island and the mainland.\n\n"
        "Personality:\nGruff, punctual, secretly sentimental."
    )
    exported = (await client.get(f"/api/v1/agents/{agent['id']}/card", headers=auth)).json()
    assert exported["spec"] == "chara_card_v3" and exported["data"]["name"] == "Tomas"
    # V1 readers find the fields at the top level, and the legacy keys come back as they were.
    assert {key: exported[key] for key in v1_card()} == v1_card()


async def test_a_v1_png_imports_and_its_errors_name_top_level_fields(client, auth):
    response = await import_card(client, auth, card_png([("chara", chunk(v1_card()))]))
    assert response.status_code == 201 and response.json()["name"] == "Tomas"
    wrong_type = v1_card() | {"first_mes": 1}
    problem = assert_problem(await import_card(client, auth, wrong_type), 422, "first_mes")
    assert problem["errors"][0]["loc"] == ["body", "first_mes"]
    problem = assert_problem(await import_card(client, auth, v1_card() | {"scenario": 3}), 422, "scenario")
    assert problem["errors"][0]["loc"] == ["body", "scenario"]


async def test_empty_optional_fields_are_not_set_as_risuai_writes_them(client, auth):
    response = await import_card(client, auth, risu_v3_card())
    assert response.status_code == 201, response.text
    agent = response.json()
    assert agent["nickname"] is None and agent["creatorNotes"] == "" and agent["contextIds"] == []
    exported = (await client.get(f"/api/v1/agents/{agent['id']}/card", headers=auth)).json()
    assert exported["data"]["creation_date"] == 1_761_917_762_720 and "nickname" not in exported["data"]


async def test_the_v2_export_of_a_v3_card_holds_v2_fields_only(client, auth):
    agent = (await import_card(client, auth, v3_card())).json()
    v2 = (await client.get(f"/api/v1/agents/{agent['id']}/card?spec=v2", headers=auth)).json()
    assert v2["spec"] == "chara_card_v2"
    v3_only = {"nickname", "creator_notes_multilingual", "source", "group_only_greetings", "creation_date",
               "modification_date", "assets"}  # fmt: skip
    assert not set(v2["data"]) & v3_only
    assert all("use_regex" not in entry for entry in v2["data"]["character_book"]["entries"])
    v3 = (await client.get(f"/api/v1/agents/{agent['id']}/card", headers=auth)).json()
    assert v3 == v3_card()  # and the V3 export, made after it, lost nothing


async def test_a_form_upload_is_told_to_send_the_file_itself(client, auth):
    """`curl -F file=@card.png`: the usual first try; the 422 says how to send it instead of 'not valid JSON'."""
    response = await client.post("/api/v1/agents/import", files={"file": ("mira.png", card_png([]))}, headers=auth)
    problem = assert_problem(response, 422, "form upload (multipart/form-data)")
    assert "--data-binary @card.png" in problem["detail"] and problem["errors"][0]["loc"] == ["body"]


async def test_a_sillytavern_lorebook_export_becomes_contexts(client, auth):
    """SillyTavern marks every exported entry `use_regex: true`; before, each was kept inert and none was used."""
    entries = [{"keys": ["lighthouse"], "content": "The lamp is lit at dusk.", "use_regex": True, "enabled": True,
                "insertion_order": 10, "extensions": {}, "constant": False},
               {"keys": ["/storm(s)?/i"], "content": "A regex key.", "use_regex": True, "enabled": True,
                "insertion_order": 20, "extensions": {}}]  # fmt: skip
    card = v3_card()
    card["data"]["character_book"] = {"entries": entries, "scan_depth": None}
    agent = (await import_card(client, auth, card_png([("ccv3", chunk(card))]))).json()
    (context,) = [(await client.get(f"/api/v1/contexts/{c}", headers=auth)).json() for c in agent["contextIds"]]
    assert (context["content"], context["keys"]) == ("The lamp is lit at dusk.", ["lighthouse"])
    exported = (await client.get(f"/api/v1/agents/{agent['id']}/card", headers=auth)).json()["data"]["character_book"]
    assert [e["keys"] for e in exported["entries"]] == [["lighthouse"], ["/storm(s)?/i"]]
    assert "scan_depth" not in exported  # null in the card: the specs want a number or nothing
