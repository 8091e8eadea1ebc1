"""Fixtures of the browser tests: Debian's chromium driven by Playwright against a real server.

One browser per module (Playwright's sync API keeps an event loop running while it lives, so it must not
outlive the module), a fresh context (so a fresh sessionStorage) per test. Every test fails on a console
error, a page error, a dialog (the XSS probe's alert would be one) or a request that leaves the server.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Error,
    Page,
    Playwright,
    Route,
    expect,
    sync_playwright,
)

from novaro_lite.app import create_app
from novaro_lite.cli.common import run_with_storage
from novaro_lite.config.settings import DeliverySettings, Settings, WebhookSettings
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, Dashboard, Watch
from tests.fakes.receiver import Receiver
from tests.fakes.serve import serve_in_thread


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"The dashboard tests need Debian's chromium at {CHROMIUM}; `make test` installs it when run as root,"
            " otherwise run `sudo apt-get install chromium`.",
            pytrace=False,
        )
    expect.set_options(timeout=15_000)  # generous: other test runs share this machine's two cores
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("dashboard"),
        webhooks=WebhookSettings(allow_private_networks=True),
        delivery=DeliverySettings(time_scale=1000.0),
    )
    # In a thread of its own: Playwright's sync API keeps an event loop running on this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        _, token = pool.submit(
            run_with_storage, settings, lambda storage: storage.tokens.create("dashboard", "default", None)
        ).result()
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as receiver_url, serve_in_thread(create_app(settings), lifespan="on") as url:
        yield Dashboard(url, token, f"{receiver_url}/hook", receiver)


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def context(browser: Browser, dashboard: Dashboard, watch: Watch) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC")

    def only_our_origin(route: Route) -> None:
        if route.request.url.startswith(dashboard.url + "/"):
            route.continue_()
        else:
            watch.off_origin.append(route.request.url)
            route.abort()

    context.route("**/*", only_our_origin)
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, watch: Watch) -> Iterator[Page]:
    page = context.new_page()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.console_errors.append(message.text)

    def page_error(error: Error) -> None:
        watch.page_errors.append(str(error))

    def dismiss(dialog: Dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", console)
    page.on("pageerror", page_error)
    page.on("dialog", dismiss)
    yield page
    assert watch.page_errors == [], watch.page_errors
    assert watch.console_errors == [], watch.console_errors
    assert watch.dialogs == [], watch.dialogs
    assert watch.off_origin == [], watch.off_origin
