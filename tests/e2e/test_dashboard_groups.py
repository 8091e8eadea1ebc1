"""The dashboard's groups (issue 22), at a desktop's and a phone's width: the list searched by the server, a
group made with members found among many agents, edited and deleted; one whose members are gone says so; the
group playground realtime (each speaker's bubbles under its name, who is typing), manual, and async to this
page. Fixtures: tests/e2e/conftest.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import Dashboard, check_accessibility, sign_in

WIDTHS = pytest.mark.parametrize("width", [1280, 390])
# Every text the playground's activity line shows, kept in the page (a speaker types for a moment only).
WATCH_ACTIVITY = """() => {
  window.seen = [];
  const line = document.querySelector('.activity');
  const added = (records) => records.flatMap((record) => [...record.addedNodes].map((node) => node.textContent));
  new MutationObserver((records) => window.seen.push(...added(records))).observe(line, { childList: true });
}"""


def _fits(page: Page) -> None:
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _group(dashboard: Dashboard, name: str, *agents: str, **fields: object) -> dict[str, Any]:
    members = [{"agentId": agent, "talkativeness": 100} for agent in agents]
    response = dashboard.api("POST", "/api/v1/groups", {"name": name, "members": members, **fields})
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


def _agents(dashboard: Dashboard, *names: str) -> list[str]:
    # Awake all day, so no reply waits for a morning.
    body = {"activeHours": {"start": "00:00", "end": "00:00"}}
    return [dashboard.api("POST", "/api/v1/agents", {"name": name, **body}).json()["id"] for name in names]


@WIDTHS
def test_groups_are_made_from_agents_found_by_name_edited_and_deleted(page: Page, dashboard, watch, width):
    for n in range(25):
        dashboard.api("POST", "/api/v1/agents", {"name": f"Crowd{width} {n:02d}"})
    lena, marco = _agents(dashboard, f"Lena{width}", f"Marco{width}")
    twins = _agents(dashboard, f"Twin{width}", f"Twin{width}")
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, dashboard, "/groups")
    page.get_by_role("button", name="New group").click()
    page.get_by_label("Name", exact=True).fill(f"Flatmates{width}")
    find = page.get_by_label("Find agents to add")
    find.fill(f"crowd{width}")
    expect(page.get_by_text("25 agents found; showing 8, type more of a name.")).to_be_visible()
    find.fill(f"twin{width}")
    for twin in twins:  # namesakes told apart
        expect(page.get_by_role("button", name=f"Add Twin{width} ({twin})", exact=True)).to_be_visible()
    find.fill(f"lena{width}")
    expect(page.get_by_text("1 agent found.", exact=True)).to_be_visible()
    page.get_by_role("button", name=f"Add Lena{width}").click()
    page.get_by_role("button", name="Create group").click()  # one member is too few: said on the field
    expect(page.get_by_text("Use at least 2 items.", exact=True)).to_be_visible()  # plain words, not pydantic's
    expect(page.get_by_label("Find agents to add")).to_be_focused()
    watch.console_errors = [e for e in watch.console_errors if "422" not in e]  # the browser logs the 422 itself
    find.fill(f"marco{width}")
    page.get_by_role("button", name=f"Add Marco{width}").click()
    page.get_by_label(f"Talkativeness of Lena{width}").fill("80")
    page.get_by_role("button", name=f"Move Marco{width} up").click()
    page.get_by_label("How they take turns").select_option("list")
    _fits(page)
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("heading", name=f"Flatmates{width}", exact=True)).to_be_visible()
    made = dashboard.api("GET", page.url.replace(dashboard.url, "/api/v1")).json()
    assert made["members"] == [{"agentId": marco, "talkativeness": 50}, {"agentId": lena, "talkativeness": 80}]
    assert (made["strategy"], made["maxAgentTurns"]) == ("list", 2)
    _fits(page)

    page.get_by_role("navigation").get_by_role("link", name="Groups").click()
    page.get_by_label("Search groups").fill(f"FLATMATES{width}")
    expect(page.get_by_text("1 group, newest first", exact=True)).to_be_visible()
    # The rows of the search's own results: the unfiltered list is on the page until they arrive, and a click
    # there would land on a row the results then replace.
    row = results(page, f"FLATMATES{width}").get_by_role("row", name=re.compile(f"Flatmates{width}"))
    expect(row).to_contain_text(f"Marco{width} (50), Lena{width} (80)")
    row.get_by_role("button", name=f"Edit Flatmates{width}").click()
    page.get_by_label("Name", exact=True).fill(f"Housemates{width}")
    page.get_by_label("Most agent messages per message").fill("3")
    page.get_by_role("button", name="Save group").click()
    expect(page.get_by_role("heading", name=f"Housemates{width}", exact=True)).to_be_visible()
    assert dashboard.api("GET", f"/api/v1/groups/{made['id']}").json()["maxAgentTurns"] == 3

    page.get_by_role("link", name="← Groups").click()
    page.get_by_label("Search groups").fill(f"Housemates{width}")
    row = results(page, f"Housemates{width}").get_by_role("row", name=re.compile(f"Housemates{width}"))
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text(f"Deleted Housemates{width}.")).to_be_visible()
    assert dashboard.api("GET", f"/api/v1/groups/{made['id']}").status_code == 404


def results(page: Page, search: str) -> Locator:
    """The groups list once it shows the results of searching `search`."""
    return page.get_by_role("region", name=f"Groups whose name contains “{search}”")


def test_a_group_whose_members_are_gone_says_so(page: Page, dashboard):
    ids = _agents(dashboard, "Gone One", "Gone Two")
    group = _group(dashboard, "Ghost Town", *ids)
    for agent in ids:
        dashboard.api("DELETE", f"/api/v1/agents/{agent}")
    sign_in(page, dashboard, "/groups")
    page.get_by_label("Search groups").fill("Ghost Town")
    expect(page.get_by_role("row", name=re.compile("Ghost Town"))).to_contain_text(
        "Every member of this group was deleted"
    )
    page.get_by_role("link", name="Ghost Town").click()
    expect(page.get_by_role("alert")).to_contain_text("Every member of this group was deleted")
    expect(page.get_by_label("Message")).to_have_count(0)  # nobody to write to
    expect(page.get_by_text("null", exact=True)).to_have_count(0)
    assert dashboard.api("GET", f"/api/v1/groups/{group['id']}").json()["members"] == []


@WIDTHS
def test_group_playground_streams_each_speaker_under_its_name_and_shows_who_types(
    page: Page, dashboard, width, tmp_path: Path
):
    lena, marco = _agents(dashboard, f"Lena{width}", f"Marco{width}")
    group = _group(dashboard, f"Evening{width}", marco, lena, maxAgentTurns=2)
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, dashboard, f"/groups/{group['id']}")
    expect(page.get_by_label("Message")).to_be_visible()
    page.evaluate(WATCH_ACTIVITY)
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("Message").fill(f"Lena{width}, are you coming tonight?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text(re.compile(r"^demo/"))).to_be_visible()  # the usage line comes after the last bubble
    # Lena was named, so she answers first; Marco answers her; each one's bubbles come under its name.
    assert page.locator(".bubble.assistant .writer").all_inner_texts() == [f"Lena{width}", f"Marco{width}"]
    assert page.locator(".bubble.assistant").count() > 2  # the demo model writes several bubbles
    seen = page.evaluate("window.seen")
    assert f"Lena{width} is typing…" in seen and f"Marco{width} is typing…" in seen
    _fits(page)
    page.screenshot(path=tmp_path / f"group-{width}.png")

    # The next message carries the transcript, each reply attributed to its writer.
    page.get_by_label("Message").fill("And you?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".bubble.user")).to_have_count(2)
    expect(page.get_by_text(re.compile(r"^demo/"))).to_be_visible()


def test_group_playground_manual_lets_the_person_pick_who_answers(page: Page, dashboard):
    lena, marco = _agents(dashboard, "Lena M", "Marco M")
    group = _group(dashboard, "Picked", lena, marco, strategy="manual")
    sign_in(page, dashboard, f"/groups/{group['id']}")
    page.get_by_label("Who answers").select_option(label="Marco M")
    page.get_by_label("Message").fill("Lena M, what do you think?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text(re.compile(r"^demo/"))).to_be_visible()
    assert page.locator(".bubble.assistant .writer").all_inner_texts() == ["Marco M"]
    check_accessibility(page)


@WIDTHS
def test_group_playground_async_replies_to_this_page_join_the_chat(page: Page, dashboard, width):
    lena, marco = _agents(dashboard, f"Lena A{width}", f"Marco A{width}")
    group = _group(dashboard, f"Async{width}", marco, lena, maxAgentTurns=2)
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, dashboard, f"/groups/{group['id']}")
    expect(page.get_by_label("Message")).to_be_visible()
    page.evaluate(WATCH_ACTIVITY)
    page.get_by_label("Send as an async request to a webhook instead").check()
    expect(page.get_by_label("Webhook", exact=True)).to_have_value("this-page")
    page.get_by_label("Message").fill(f"Lena A{width}, are you coming?")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("list", name=f"Conversation with Async{width}")
    # Each member's reply is its own delivery: Lena's (turn 1), then Marco's answer to it (turn 2).
    expect(page.get_by_text(f"Marco A{width} answered (turn 2).")).to_be_visible()
    assert log.locator(".bubble.assistant .writer").all_inner_texts() == [f"Lena A{width}", f"Marco A{width}"]
    expect(log.locator(".bubble.note").first).to_contain_text("Status: delivered")
    assert any(text.startswith(f"Lena A{width} read it at") for text in page.evaluate("window.seen"))
    check_accessibility(page)
