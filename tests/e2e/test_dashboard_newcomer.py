"""The dashboard a newcomer enjoys (issue 26), at a desktop's and a phone's width: the async reply on the page,
cards in and out, forms that explain, lists that page, focus that follows. Fixtures: tests/e2e/conftest.py."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, sign_in
from tests.fakes.cards import card_png, v2_card

WIDTHS = pytest.mark.parametrize("width", [1280, 390])


@WIDTHS
def test_playground_async_reply_to_this_page_joins_the_conversation(page: Page, dashboard, width):
    page.set_viewport_size({"width": width, "height": 844})
    agent = dashboard.api(
        "POST", "/api/v1/agents", {"name": f"Ines {width}", "greeting": "Olá {{user}}, I am {{char}}."}
    )
    agent = agent.json()
    sign_in(page, dashboard, f"/agents/{agent['id']}")
    log = page.get_by_role("list", name=f"Conversation with Ines {width}")
    expect(log.locator(".bubble.assistant").first).to_have_text(re.compile(f"^Olá you, I am Ines {width}."))
    box = page.get_by_label("Message").bounding_box()
    assert box is not None and box["y"] < 844 * 1.5  # the playground comes first
    page.get_by_label("Send as an async request to a webhook instead").check()
    expect(page.get_by_label("Webhook", exact=True)).to_have_value("this-page")
    page.get_by_label("Deliver").select_option("human")
    expect(page.get_by_text(re.compile("^Expected wait: half of replies within"))).to_be_visible()
    page.get_by_label("Deliver").select_option("immediate")
    page.get_by_label("Message").fill("Are you open tomorrow?")
    page.get_by_role("button", name="Send").click()
    expect(log.locator(".bubble.assistant").nth(1)).to_contain_text(f"Ines {width}")  # after the greeting
    expect(log.get_by_text(re.compile(f"^Ines {width} read it at"))).to_be_visible()
    # "New chat" starts over: only the greeting again, and the cursor back in the message box.
    page.get_by_role("button", name="New chat").click()
    expect(log.locator(".bubble")).to_have_count(1)
    expect(log.locator(".bubble.assistant")).to_have_text(re.compile(f"^Olá you, I am Ines {width}."))
    expect(page.get_by_label("Message")).to_be_focused()
    check_accessibility(page)


def test_card_import_previews_then_creates_and_the_agent_exports_it(page: Page, dashboard, tmp_path: Path):
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {
        "name": "Tomás", "description": "{{char}} sells tiles.", "first_mes": "Bom dia, {{user}}!",
        "tags": ["lisbon", "tiles"], "character_book": {"entries": [
            {"keys": ["azulejo"], "content": "Blue tiles.", "enabled": True, "insertion_order": 0}]}}}  # fmt: skip
    path = tmp_path / "tomas.json"
    path.write_text(json.dumps(card))
    sign_in(page, dashboard, "/agents")
    page.get_by_role("button", name="Import a character card").click()
    page.get_by_label("Character card file").set_input_files(path)
    expect(page.get_by_text("lisbon, tiles")).to_be_visible()  # the preview, before anything is created
    expect(page.get_by_text("1: 1 keyword context", exact=True)).to_be_visible()
    page.get_by_role("button", name="Create this agent").click()
    expect(page.get_by_role("heading", name="Tomás", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Tomás", exact=True)).to_be_focused()
    character = page.get_by_role("region", name="Character")
    expect(character.locator("mark").first).to_have_text("you")  # {{user}} in the greeting, marked
    character.get_by_role("button", name="Edit character").click()
    page.get_by_label("Tags").fill("lisbon, tiles, shop")
    page.get_by_role("button", name="Save character").click()
    expect(page.get_by_text("lisbon, tiles, shop")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export card (JSON)").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["data"]["name"] == "Tomás" and exported["data"]["tags"] == ["lisbon", "tiles", "shop"]
    assert exported["data"]["character_book"]["entries"][0]["keys"] == ["azulejo"]


def test_a_png_card_previews_what_the_server_imports(page: Page, dashboard, tmp_path: Path, watch):
    """The first `chara` chunk, in base64 with the URL-safe alphabet as some tools write it; its lorebook counted
    as the server makes contexts of it (a constant entry is always on, a disabled one is kept unused)."""
    card = v2_card()  # lorebook: a keyword entry, a constant one, a selective one, a disabled one
    card["data"] |= {"name": "Mira Ÿ~?", "description": "\n".join(f"Line {n} ~?~?" for n in range(40))}
    first = base64.urlsafe_b64encode(json.dumps(card).encode()).decode()
    assert "-" in first and "_" in first
    second = base64.b64encode(json.dumps(v2_card() | {"data": {"name": "Someone else"}}).encode()).decode()
    path = tmp_path / "mira.png"
    path.write_bytes(card_png([("chara", first), ("chara", second)]))
    sign_in(page, dashboard, "/agents")
    page.get_by_role("button", name="Import a character card").click()
    page.get_by_label("Character card file").set_input_files(path)
    expect(page.locator("dd").first).to_have_text("Mira Ÿ~?")
    lore = "4: 1 always-on context, 2 keyword contexts, 1 kept but never used (disabled, empty, or no key it can match)"
    expect(page.get_by_text(lore, exact=True)).to_be_visible()
    description = page.get_by_role("region", name="Persona")
    assert description.evaluate("node => node.scrollHeight > node.clientHeight")  # it scrolls: by keyboard too
    check_accessibility(page)
    page.get_by_role("button", name="Create this agent").click()
    expect(page.get_by_role("heading", name="Mira Ÿ~?", exact=True)).to_be_visible()
    agent = dashboard.api("GET", page.url.replace(dashboard.url, "/api/v1")).json()
    assert len(agent["contextIds"]) == 3
    # A file that is no card: the server's reading says why, before anything could be created.
    page.goto(f"{dashboard.url}/agents")
    page.get_by_role("button", name="Import a character card").click()
    (tmp_path / "notes.json").write_text('{"name": "no spec"')
    page.get_by_label("Character card file").set_input_files(tmp_path / "notes.json")
    expect(page.get_by_role("alert")).to_contain_text("JSON")
    expect(page.get_by_role("button", name="Create this agent")).to_have_count(0)
    watch.console_errors = [e for e in watch.console_errors if "422" not in e]  # the browser logs the 422 itself


def test_forms_explain_on_the_field_and_show_limits_while_typing(page: Page, dashboard, watch):
    sign_in(page, dashboard, "/agents")
    page.get_by_role("button", name="New agent").click()
    expect(page.get_by_text(re.compile(r"^0 of 20,000 characters"))).to_be_visible()  # the persona's limit
    page.get_by_label("Persona").fill("Bakes.")
    expect(page.get_by_text(re.compile(r"^6 of 20,000 characters"))).to_be_visible()
    page.get_by_label("Name").fill("   ")
    page.get_by_label("Language").fill("not a language")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_text("Check the fields marked below.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Must have a character other than spaces.")).to_be_visible()
    expect(page.get_by_text(re.compile("^Not in the expected form. A language tag"))).to_be_visible()
    expect(page.get_by_label("Name")).to_be_focused()
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("button", name="New webhook").click()
    page.get_by_label("URL").fill("ftp://example.com/hook")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(re.compile("^Must be an http:// or https:// URL with no spaces"))).to_be_visible()
    expect(page.get_by_text("should match pattern")).to_have_count(0)
    watch.console_errors = [e for e in watch.console_errors if "422" not in e]  # the browser logs the 422 itself


@WIDTHS
def test_lists_page_newest_first_with_a_count_and_rows_as_cards_on_a_phone(page: Page, dashboard, width):
    for n in range(55):
        dashboard.api("POST", "/api/v1/agents", {"name": f"Bulk{width} {n:02d}"})
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, dashboard, "/agents")
    expect(page.get_by_text(re.compile(r"^\d+ agents; showing 1–50, newest first"))).to_be_visible()
    first = page.get_by_role("link", name=re.compile(f"^Bulk{width} ")).first
    expect(first).to_have_text(f"Bulk{width} 54")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(re.compile(r"showing 51–"))).to_be_visible()
    page.get_by_label("Search agents").fill(f"bulk{width} 0")
    expect(page.get_by_text("10 agents, newest first", exact=True)).to_be_visible()
    cell = page.locator("td[data-label='Time zone']").first
    display = cell.evaluate("node => getComputedStyle(node).display")
    assert display == ("block" if width < 640 else "table-cell")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    check_accessibility(page)


@WIDTHS
def test_request_timeline_shows_the_agent_reading_and_typing_in_order(page: Page, dashboard, width, tmp_path: Path):
    """A humanlike request on the real server (1000× time: minutes pass in a blink), followed on its page from
    acceptance until it is delivered: the agent's read and typing are steps with their times."""
    page.set_viewport_size({"width": width, "height": 844})
    name = f"Yara {width}"
    agent = dashboard.api("POST", "/api/v1/agents", {
        "name": name, "timezone": "UTC", "activeHours": {"start": "00:00", "end": "00:00"},  # never asleep
        "responseTimes": [{"upToSeconds": 600, "probability": 1}]}).json()  # fmt: skip
    hook = dashboard.api("POST", "/api/v1/webhooks", {"url": dashboard.receiver_url}).json()
    accepted = dashboard.api("POST", "/api/v1/message-requests", {
        "agentId": agent["id"], "webhookId": hook["id"], "reference": f"timeline-{width}",
        "messages": [{"role": "user", "content": "Did the tiles arrive?"}]}).json()  # fmt: skip
    sign_in(page, dashboard, f"/requests/{accepted['id']}")
    timeline = page.locator(".timeline")
    expect(timeline.locator("li.step", has_text="Delivered")).to_be_visible()  # the page refreshes until then
    labels = timeline.locator("li.step > strong").all_inner_texts()
    assert labels[:3] == ["Accepted", "Read", "Started typing"] and labels[-1] == "Delivered", labels
    for label, sentence in (("Read", "read the messages."), ("Started typing", "started typing the reply.")):
        shown = timeline.locator("li.step", has=page.locator("strong", has_text=re.compile(f"^{label}$")))
        expect(shown.locator("time")).to_have_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
        expect(shown).to_contain_text(f"{name} {sentence}")
    request = dashboard.api("GET", f"/api/v1/message-requests/{accepted['id']}").json()
    assert request["createdAt"] <= request["readAt"] <= request["typingAt"] <= request["deliveredAt"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    check_accessibility(page)
    page.locator("body").screenshot(path=tmp_path / f"timeline-{width}.png")
