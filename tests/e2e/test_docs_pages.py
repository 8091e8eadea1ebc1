"""The API reference (/scalar) and a problem page in a real browser: they render under their strict
Content-Security-Policy without a single violation. Fixtures are in tests/e2e/conftest.py."""

from __future__ import annotations

from playwright.sync_api import Page, expect

# Every violation the page meets becomes a console error, which the `page` fixture refuses.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => console.error(
  `CSP violation: ${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`));
"""


def test_the_scalar_reference_renders_under_its_csp(page: Page, dashboard):
    page.add_init_script(REPORT_VIOLATIONS)
    response = page.goto(dashboard.url + "/scalar")
    assert response is not None and "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.get_by_text("Report liveness and database health").first).to_be_visible()
    expect(page.get_by_text("openai", exact=True).first).to_be_attached()  # the /v1 face's group
    page.wait_for_load_state("networkidle")


def test_a_problem_page_renders_under_the_csp(page: Page, dashboard):
    page.add_init_script(REPORT_VIOLATIONS)
    page.goto(dashboard.url + "/problems/forbidden")
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    page.wait_for_load_state("networkidle")
