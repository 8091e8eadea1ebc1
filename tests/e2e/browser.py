"""Helpers of the dashboard's browser tests: the served dashboard, what a page must not do, signing in, axe-core."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.fakes.receiver import Receiver

CHROMIUM = Path(os.environ.get("NOVARO_LITE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core"


@dataclass
class Dashboard:
    url: str
    token: str
    receiver_url: str
    receiver: Receiver

    def api(self, method: str, path: str, body: object = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.request(method, self.url + path, json=body, headers=headers)


@dataclass
class Watch:
    """What a page did that it must not: console errors, uncaught errors, dialogs, off-origin requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    off_origin: list[str] = field(default_factory=list)


def sign_in(page: Page, dashboard: Dashboard, path: str = "/") -> None:
    page.goto(dashboard.url + path)
    page.get_by_label("API token").fill(dashboard.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def check_accessibility(page: Page) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate((AXE / "axe.min.js").read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert result["testEngine"]["name"] == "axe-core" and result["inapplicable"] is not None
    serious = [
        f"{violation['id']}: {violation['help']} ({[node['target'] for node in violation['nodes']][:3]})"
        for violation in result["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert serious == [], f"{page.url}: {serious}"
