"""The dashboard's lists at scale, keyword contexts, what the model sees and remembering the token (issue 26),
on a desktop and a phone.

Fixtures (one chromium per module, a watched page per test) are in tests/e2e/conftest.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, sign_in

WIDTHS = [1280, 390]


def _fits(page: Page) -> None:
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", WIDTHS)
def test_contexts_webhooks_and_tokens_are_searched_and_counted_by_the_server(page: Page, dashboard, width):
    for n in range(53):
        dashboard.api("POST", "/api/v1/contexts", {"name": f"Note{width} {n:02d}", "content": "…"})
    dashboard.api("POST", "/api/v1/webhooks", {"url": f"{dashboard.receiver_url}?w={width}", "description": "Shop"})
    dashboard.api("POST", "/api/v1/tokens", {"name": f"laptop{width}"})
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, dashboard, "/contexts")
    expect(page.get_by_text(re.compile(r"^\d+ contexts; showing 1–50, newest first$"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(f"Note{width} ")).first).to_contain_text(f"Note{width} 52")
    page.get_by_label("Search contexts").fill(f"NOTE{width} 5")
    expect(page.get_by_text("3 contexts, newest first", exact=True)).to_be_visible()
    _fits(page)

    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Search webhooks").fill(f"w={width}")
    expect(page.get_by_text("1 webhook, newest first", exact=True)).to_be_visible()
    page.get_by_label("Search webhooks").fill("no such hook")
    expect(page.get_by_text("No webhook's URL or description contains “no such hook”.")).to_be_visible()
    _fits(page)

    page.get_by_role("link", name="Tokens").click()
    page.get_by_label("Search tokens").fill(f"LAPTOP{width}")
    expect(page.get_by_text("1 token, newest first", exact=True)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(f"laptop{width}"))).to_be_visible()
    _fits(page)


def test_requests_agent_picker_asks_the_server_among_hundreds_of_agents(page: Page, dashboard):
    hook = dashboard.api("POST", "/api/v1/webhooks", {"url": dashboard.receiver_url}).json()
    for n in range(120):
        dashboard.api("POST", "/api/v1/agents", {"name": f"Crowd {n:03d}"})
    wanted = dashboard.api("POST", "/api/v1/agents", {"name": "Needle Person"}).json()
    dashboard.api("POST", "/api/v1/message-requests", {
        "agentId": wanted["id"], "webhookId": hook["id"], "reference": "needle-ref", "delay": {"seconds": 3600},
        "messages": [{"role": "user", "content": "Hi"}]})  # fmt: skip
    sign_in(page, dashboard, "/requests")
    page.get_by_label("Agent").fill("needle")
    expect(page.locator("#agent-choices option")).to_have_count(1)
    page.get_by_label("Agent").fill(f"Needle Person ({wanted['id']})")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 request, newest first", exact=True)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("needle-ref"))).to_contain_text("Needle Person")
    assert f"agentId={wanted['id']}" in page.url
    check_accessibility(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_keyword_contexts_show_their_keys_and_the_model_view_shows_what_enters(page: Page, dashboard, width):
    dog = dashboard.api("POST", "/api/v1/contexts", {"name": f"Dog{width}", "content": "Bruno, a beagle."}).json()
    agent = dashboard.api("POST", "/api/v1/agents", {
        "name": f"Iris{width}", "persona": "{{char}} walks dogs.", "contextIds": [dog["id"]]}).json()  # fmt: skip
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, dashboard, "/contexts")
    row = page.get_by_role("row", name=re.compile(f"Dog{width}"))
    expect(row).to_contain_text("Always")
    row.get_by_role("button", name="Edit").click()
    page.get_by_label("Keys", exact=True).fill("bruno, beagle")
    page.get_by_role("button", name="Save context").click()
    expect(row).to_contain_text("When bruno, beagle comes up")
    assert dashboard.api("GET", f"/api/v1/contexts/{dog['id']}").json()["keys"] == ["bruno", "beagle"]
    _fits(page)

    page.goto(f"{dashboard.url}/agents/{agent['id']}")
    view = page.locator("section", has=page.get_by_role("heading", name="What the model sees"))
    view.get_by_label("What the person writes").fill("How is the weather?")
    view.get_by_role("button", name="Show the prompt").click()
    expect(view).to_contain_text(f"Dog{width} — left out: none of its keys (bruno, beagle) occurs.")
    expect(view.get_by_role("region", name="System prompt")).to_contain_text(f"Iris{width} walks dogs.")
    view.get_by_label("What the person writes").fill("Is Bruno well?")
    view.get_by_role("button", name="Show the prompt").click()
    expect(view).to_contain_text(f"Dog{width} — in the prompt: one of its keys occurs.")
    expect(view.get_by_role("region", name="System prompt")).to_contain_text("Bruno, a beagle.")
    # A key that occurs is not enough when the context also needs a secondary key: the reason says which.
    dashboard.api("PATCH", f"/api/v1/contexts/{dog['id']}", {"secondaryKeys": ["walk"], "selective": True})
    view.get_by_role("button", name="Show the prompt").click()
    expect(view).to_contain_text(f"Dog{width} — left out: a key occurs, but none of its secondary keys (walk) does.")
    _fits(page)


def test_remember_on_this_device_opens_new_tabs_signed_in_and_sign_out_forgets_it(page: Page, dashboard):
    page.goto(dashboard.url + "/")
    page.get_by_label("API token").fill(dashboard.token)
    page.get_by_label("Remember on this device").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    other = page.context.new_page()
    other.goto(dashboard.url + "/agents")
    expect(other.get_by_role("heading", name="Agents", exact=True)).to_be_visible()  # no token asked for
    other.get_by_role("button", name="Sign out").click()
    expect(other.get_by_label("API token")).to_be_visible()
    expect(page.get_by_text("You signed out in another tab.")).to_be_visible()
    assert page.evaluate("localStorage.length") == 0
    other.close()
