"""The dashboard in a real browser: sign in and out, its forms and pages, the XSS probe, accessibility.

Fixtures (one chromium per module, a watched page per test) are in tests/e2e/conftest.py.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import AXE, check_accessibility, sign_in
from tests.fakes.cards import card_png, chunk, v1_card

XSS_NAME = "<img src=x onerror=alert(1)>"


def test_dashboard_signs_in_with_a_token_kept_in_session_storage_only_and_signs_out(page: Page, dashboard, watch):
    page.goto(dashboard.url + "/agents")
    page.get_by_label("API token").fill("nl_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown or has been revoked")
    watch.console_errors = [e for e in watch.console_errors if "401" not in e]  # the browser logs the 401 itself
    sign_in(page, dashboard, "/agents")
    expect(page.get_by_role("heading", name="Agents", exact=True)).to_be_visible()
    assert page.url == dashboard.url + "/agents" and dashboard.token not in page.url
    assert page.evaluate("sessionStorage.getItem('novaro-lite.token')") == dashboard.token
    assert page.evaluate("localStorage.length") == 0 and page.context.cookies() == []
    page.reload()
    expect(page.get_by_role("heading", name="Agents", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API token")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_dashboard_sign_in_works_by_keyboard(page: Page, dashboard):
    page.goto(dashboard.url + "/")
    expect(page.get_by_label("API token")).to_be_focused()
    page.keyboard.type(dashboard.token)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Next scheduled deliveries")).to_be_visible()  # loaded
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    # An empty account's overview starts with its next steps: the first link inside the page.
    expect(page.get_by_role("link", name="Create or import an agent")).to_be_focused()
    expect(page.get_by_text("novaro-lite listen --port 9000")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Agents", exact=True)).to_be_focused()  # focus follows the navigation
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="New agent")).to_be_focused()  # the page's first control, one Tab away


def test_dashboard_creates_an_agent_through_the_form_and_navigates_back(page: Page, dashboard):
    sign_in(page, dashboard, "/agents")
    page.get_by_role("button", name="New agent").click()
    page.get_by_label("Name").fill("Marta")
    page.get_by_label("Location").fill("Lisbon, Portugal")
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    page.get_by_label("Language").fill("pt-PT")
    page.get_by_label("Awake from").fill("07:30")
    page.get_by_label("Asleep from").fill("23:15")
    page.get_by_label("Persona").fill("Runs a bakery in Alfama.")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", name="Marta")).to_be_visible()
    agent_id = page.url.rsplit("/", 1)[1]
    stored = dashboard.api("GET", f"/api/v1/agents/{agent_id}").json()
    assert stored["timezone"] == "Europe/Lisbon" and stored["activeHours"] == {"start": "07:30", "end": "23:15"}
    expect(page.get_by_text(re.compile(r"^(Awake|Asleep) now"))).to_be_visible()
    page.get_by_role("button", name="Edit", exact=True).click()
    page.get_by_label("Awake from").fill("06:00")
    page.get_by_label("Use my own table").check()
    page.get_by_role("button", name="Save agent").click()
    expect(page.get_by_text("06:00–23:15 local")).to_be_visible()
    edited = dashboard.api("GET", f"/api/v1/agents/{agent_id}").json()
    assert edited["activeHours"]["start"] == "06:00" and len(edited["responseTimes"]) == 6
    page.reload()
    expect(page.get_by_role("heading", name="Marta")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Agents", exact=True)).to_be_visible()
    page.get_by_label("Search agents").fill("MART")  # the server searches names, ignoring case
    expect(page.get_by_role("link", name="Marta")).to_be_visible()
    page.get_by_label("Search agents").fill("no such agent anywhere")
    expect(page.get_by_text("No agent's name contains “no such agent anywhere”.")).to_be_visible()


def test_dashboard_generates_agents_with_the_demo_model(page: Page, dashboard):
    sign_in(page, dashboard, "/agents")
    page.get_by_role("button", name="Generate agents").click()
    page.get_by_label("How many").fill("2")
    page.get_by_label("Description").fill("regulars of a Lisbon bakery")
    page.get_by_role("button", name="Generate agents").last.click()
    expect(page.get_by_text(re.compile(r"^Created 2 agents: "))).to_be_visible()


def test_dashboard_playground_streams_the_demo_model_reply_as_bubbles(page: Page, dashboard, tmp_path: Path):
    agent = dashboard.api("POST", "/api/v1/agents", {"name": "Lena", "timezone": "Europe/Berlin"}).json()
    sign_in(page, dashboard, f"/agents/{agent['id']}")
    page.get_by_label("Message").fill("Are you open tomorrow?")
    page.get_by_role("button", name="Send").click()
    bubbles = page.locator(".bubble.assistant")
    expect(bubbles.first).to_contain_text("Lena here")
    expect(page.get_by_text(re.compile(r"^demo/"))).to_be_visible()  # the usage line comes after the last bubble
    assert bubbles.count() >= 1
    expect(bubbles.first.locator("time")).to_contain_text("Lena:")  # the viewer's time and the agent's
    page.locator("body").screenshot(path=tmp_path / "playground.png")


def test_dashboard_webhook_secret_is_shown_once_and_its_ping_reports_the_answer(page: Page, dashboard):
    sign_in(page, dashboard, "/webhooks")
    page.get_by_role("button", name="New webhook").click()
    page.get_by_label("URL").fill(dashboard.receiver_url)
    page.get_by_label("Description").fill("receiver for the ping")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_text("you will not see it again")).to_be_visible()
    secret = page.get_by_label(re.compile("^Signing secret of")).input_value()
    assert secret.startswith("whsec_")
    card = page.locator("li.card", has_text="receiver for the ping")
    card.get_by_role("button", name="Send test ping").click()
    expect(card.get_by_text(re.compile(r"Test ping: 200 in \d+ ms"))).to_be_visible()
    page.reload()
    expect(page.locator("li.card", has_text="receiver for the ping")).to_be_visible()
    assert secret not in page.content()


def test_dashboard_follows_an_async_request_to_its_delivered_timeline(page: Page, dashboard, tmp_path: Path):
    agent = dashboard.api("POST", "/api/v1/agents", {"name": "Noor", "timezone": "Asia/Dubai"}).json()
    hook = dashboard.api("POST", "/api/v1/webhooks", {"url": dashboard.receiver_url, "description": "async"}).json()
    sign_in(page, dashboard, f"/agents/{agent['id']}")
    page.get_by_label("Send as an async request to a webhook instead").check()
    page.get_by_label("Webhook", exact=True).select_option(hook["id"])
    page.get_by_label("Message").fill("Are you free on Friday?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Status: delivered")).to_be_visible()
    page.locator(".bubble.note a").click()
    expect(page.get_by_role("heading", name=re.compile("^Request req_"))).to_be_visible()
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Accepted")
    expect(timeline).to_contain_text("Attempt 1")
    expect(timeline).to_contain_text("200 in")
    expect(timeline).to_contain_text("Delivered")
    page.locator("body").screenshot(path=tmp_path / "timeline.png")
    request_id = page.url.rsplit("/", 1)[1]
    assert any(receipt.webhook_id == request_id for receipt in dashboard.receiver.receipts)
    page.get_by_role("link", name="← Requests").click()
    expect(page.get_by_role("link", name=request_id)).to_be_visible()
    page.get_by_label("Status").select_option("failed")
    expect(page.get_by_text("No requests match.")).to_be_visible()
    assert page.url.endswith("/requests?status=failed")


def test_dashboard_renders_an_xss_probe_as_text(page: Page, dashboard, watch):
    agent = dashboard.api("POST", "/api/v1/agents", {"name": XSS_NAME, "persona": XSS_NAME}).json()
    context = dashboard.api("POST", "/api/v1/contexts", {"name": XSS_NAME, "content": XSS_NAME}).json()
    sign_in(page, dashboard, "/agents")
    expect(page.get_by_role("link", name=XSS_NAME)).to_be_visible()
    page.get_by_role("link", name=XSS_NAME).click()
    expect(page.get_by_role("heading", name=XSS_NAME)).to_be_visible()
    page.goto(dashboard.url + "/contexts")
    expect(page.get_by_role("cell", name=XSS_NAME)).to_be_visible()
    assert page.locator("img").count() == 0
    assert watch.dialogs == [] and not [url for url in watch.off_origin if url.endswith("/x")]
    dashboard.api("DELETE", f"/api/v1/contexts/{context['id']}")
    dashboard.api("DELETE", f"/api/v1/agents/{agent['id']}")


def test_dashboard_context_delete_asks_and_names_the_agents_that_use_it(page: Page, dashboard, watch):
    made = dashboard.api("POST", "/api/v1/contexts", {"name": "Menu", "content": "Pastel de nata 1.20"}).json()
    spare = dashboard.api("POST", "/api/v1/contexts", {"name": "Spare", "content": "…"}).json()
    dashboard.api("POST", "/api/v1/agents", {"name": "Rui", "contextIds": [made["id"]]})
    sign_in(page, dashboard, "/contexts")
    # An unused one is deleted only once confirmed.
    page.get_by_role("row", name=re.compile("^Spare")).get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("Delete Spare?")
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text("Deleted Spare.")).to_be_visible()
    assert dashboard.api("GET", f"/api/v1/contexts/{spare['id']}").status_code == 404
    # One in use: which agents use it, by name, and a choice in plain words; no ids, no ?force.
    page.get_by_role("row", name=re.compile("^Menu")).get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    alert = page.get_by_role("alert").filter(has_text="is used by")
    expect(alert).to_contain_text("Menu is used by Rui. Deleting it takes it away from them.")
    expect(alert).not_to_contain_text("ctx_")
    expect(alert.get_by_role("button", name="Keep it")).to_be_focused()
    menu = page.get_by_role("row", name=re.compile("^Menu"))
    expect(menu.get_by_role("button", name="Yes, delete")).to_have_count(0)  # the question was answered
    expect(menu.get_by_role("button", name="Delete", exact=True)).to_be_visible()
    alert.get_by_role("button", name="Take it from Rui and delete").click()
    expect(page.get_by_text("Deleted Menu.")).to_be_visible()
    assert dashboard.api("GET", f"/api/v1/contexts/{made['id']}").status_code == 404
    watch.console_errors = [e for e in watch.console_errors if "409" not in e]  # the browser logs the 409 itself


def test_dashboard_tokens_are_shown_once_and_revoking_the_one_in_use_signs_out(page: Page, dashboard):
    spare = dashboard.api("POST", "/api/v1/tokens", {"name": "spare"}).json()["token"]
    page.goto(dashboard.url + "/tokens")
    page.get_by_label("API token").fill(spare)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Token name").fill("ci")
    page.get_by_role("button", name="Create token").click()
    shown = page.get_by_label("API token ci").input_value()
    expect(page.get_by_text("0 of 200 characters")).to_be_visible()  # the emptied name's count follows it
    expect(page.get_by_role("columnheader", name="Actions")).to_have_count(1)  # the buttons' column is named
    assert shown.startswith("nl_") and dashboard.api("GET", "/api/v1/auth/verify", token=shown).status_code == 200
    row = page.get_by_role("row", name=re.compile("this dashboard"))
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_text("You revoked the token this dashboard used")).to_be_visible()
    expect(page.get_by_label("API token")).to_be_visible()
    assert dashboard.api("GET", "/api/v1/auth/verify", token=spare).status_code == 401


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (390, "dark")])
def test_dashboard_every_page_is_accessible_and_fits_the_screen(page: Page, dashboard, tmp_path: Path, width, scheme):
    """Each page: axe-core finds no serious violation (contrast included), nothing scrolls sideways at a phone's
    width; a screenshot of each is saved in the test's tmp dir."""
    agent = dashboard.api("POST", "/api/v1/agents", {"name": "Ama", "timezone": "Africa/Accra"}).json()
    hook = dashboard.api("POST", "/api/v1/webhooks", {"url": dashboard.receiver_url, "description": "shots"}).json()
    request = dashboard.api("POST", "/api/v1/message-requests", {
        "agentId": agent["id"], "webhookId": hook["id"], "reference": "screenshot", "delay": {"seconds": 3600},
        "messages": [{"role": "user", "content": "Hi"}]}).json()  # fmt: skip
    other = dashboard.api("POST", "/api/v1/agents", {"name": "Kofi", "timezone": "Africa/Accra"}).json()
    group = dashboard.api("POST", "/api/v1/groups", {
        "name": "Ama and Kofi", "members": [{"agentId": agent["id"]}, {"agentId": other["id"]}]}).json()  # fmt: skip
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=scheme)
    sign_in(page, dashboard)
    pages = {
        "overview": ("/", "Overview"),
        "agents": ("/agents", "Agents"),
        "agent": (f"/agents/{agent['id']}", "Ama"),
        "groups": ("/groups", "Groups"),
        "group": (f"/groups/{group['id']}", "Ama and Kofi"),
        "contexts": ("/contexts", "Contexts"),
        "webhooks": ("/webhooks", "Webhooks"),
        "requests": ("/requests", "Requests"),
        "request": (f"/requests/{request['id']}", f"Request {request['id']}"),
        "tokens": ("/tokens", "Tokens"),
    }
    for name, (path, heading) in pages.items():
        page.get_by_role("navigation").get_by_role("link").first.wait_for()
        page.evaluate(
            "path => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }", path
        )
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        check_accessibility(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} at {width}px"
        page.screenshot(path=tmp_path / f"{name}-{width}.png", full_page=True)
    assert len(list(tmp_path.glob("*.png"))) == len(pages)


def test_dashboard_vendored_axe_matches_its_pinned_sha256():
    readme = (AXE / "README.md").read_text()
    pinned = re.search(r"SHA-256 of axe.min.js: `([0-9a-f]{64})`", readme)
    assert pinned is not None
    assert hashlib.sha256((AXE / "axe.min.js").read_bytes()).hexdigest() == pinned.group(1)
    assert "- Licence: MPL-2.0" in readme and (AXE / "LICENSE").exists()


def test_dashboard_shows_an_agents_picture_fetched_with_the_token(page: Page, dashboard, watch):
    card = card_png([("chara", chunk(v1_card()))])  # a PNG card: its picture is kept with the agent
    headers = {"Authorization": f"Bearer {dashboard.token}"}
    agent = httpx.post(dashboard.url + "/api/v1/agents/import", content=card, headers=headers).json()
    sign_in(page, dashboard, f"/agents/{agent['id']}")
    picture = page.locator("img.avatar")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.src.startsWith('blob:') && img.naturalWidth > 0")  # CSP: blob: only
    dashboard.api("DELETE", f"/api/v1/agents/{agent['id']}/avatar")
    page.reload()
    expect(page.get_by_role("heading", name="Tomas")).to_be_visible()
    assert page.locator("img").count() == 0  # and no request for a picture it does not have (no 404 logged)
    dashboard.api("DELETE", f"/api/v1/agents/{agent['id']}")


def test_dashboard_says_not_found_for_a_malformed_link(page: Page, dashboard, watch):
    sign_in(page, dashboard, "/agents/%E0%A4%A")
    expect(page.get_by_role("alert")).to_contain_text("agent")
    page.goto(dashboard.url + "/groups/%ZZ")
    expect(page.get_by_role("alert")).to_contain_text("group")
    watch.console_errors = [e for e in watch.console_errors if "404" not in e]  # the browser logs the 404 itself


def test_dashboard_long_names_and_texts_fit_a_phone_and_scroll_by_keyboard(page: Page, dashboard):
    """A 90-character name without spaces wraps instead of widening the page; each box of capped height whose
    text scrolls (persona, greeting, the prompt's messages) is a named region the keyboard reaches."""
    name = "Aurelianus" * 9
    long = "\n".join(f"Line {n} of a long text that scrolls inside its box." for n in range(40))
    agent = dashboard.api("POST", "/api/v1/agents", {
        "name": name, "persona": long, "greeting": long, "exampleMessages": long,
        "activeHours": {"start": "00:00", "end": "00:00"}}).json()  # fmt: skip
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, dashboard, f"/agents/{agent['id']}")
    page.get_by_label("Message", exact=True).fill("Hi")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text(re.compile(r"^demo/"))).to_be_visible()
    view = page.locator("section", has=page.get_by_role("heading", name="What the model sees"))
    view.get_by_label("What the person writes").fill(long)
    view.get_by_role("button", name="Show the prompt").click()
    message = view.get_by_role("region", name="Conversation message 1")
    expect(message).to_contain_text("Line 39")
    for region in ("Persona", "Greeting", "Conversation message 1"):
        box = page.get_by_role("region", name=region, exact=True).first
        assert box.evaluate("node => node.scrollHeight > node.clientHeight"), region  # it does scroll
        box.focus()
        expect(box).to_be_focused()
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
