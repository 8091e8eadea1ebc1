"""The dashboard's server side: its pages and files, their security headers, and what it must not shadow."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx
import pytest

from novaro_lite.api.dashboard import PAGES, ROOT
from novaro_lite.domain import groups
from novaro_lite.domain.timing import DEFAULT_RESPONSE_TIMES
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio

BUDGET_GZIPPED = 150 * 1024


def assert_secure(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", [page.replace("{id}", "agt_x") for page in PAGES])
async def test_dashboard_pages_are_the_html_shell_with_security_headers(client: httpx.AsyncClient, path: str):
    response = await client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/dashboard/main.js">' in response.text
    assert_secure(response)


async def test_dashboard_shell_has_no_inline_script_or_style_and_loads_only_local_files(client: httpx.AsyncClient):
    html = (await client.get("/")).text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline scripts are refused by the CSP"
    assert "<style" not in html and " style=" not in html and " on" not in html.split("<body>")[1].split("<noscript")[0]
    assert all(url.startswith("/") for url in re.findall(r'(?:src|href)="([^"]+)"', html))


async def test_dashboard_files_are_served_with_their_types(client: httpx.AsyncClient):
    js = await client.get("/dashboard/main.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert_secure(js)
    css = await client.get("/dashboard/style.css")
    assert css.headers["content-type"].startswith("text/css")
    again = await client.get("/dashboard/main.js", headers={"If-None-Match": js.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    "path", ["/dashboard/nope.js", "/dashboard/../api/dashboard.py", "/dashboard/%2e%2e/api/dashboard.py",
             "/dashboard/index.html", "/dashboard/pages", "/dashboard/%00", "/dashboard/pages/a%00.js"],
)  # fmt: skip
async def test_dashboard_files_outside_the_folder_or_unknown_are_problem_404s(client: httpx.AsyncClient, path):
    assert_problem(await client.get(path), 404)


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/agents/x/nope", "/v1/nope", "/agents/x/y", "/nope"])
async def test_dashboard_does_not_shadow_unknown_paths(client: httpx.AsyncClient, path: str):
    response = await client.get(path)
    if path.startswith("/v1/"):  # the OpenAI-compatible face answers in OpenAI's error shape
        assert response.status_code == 404 and response.json()["error"]["code"]
    else:
        assert_problem(response, 404)


async def test_dashboard_leaves_the_api_and_docs_alone(client: httpx.AsyncClient):
    assert_problem(await client.get("/api/v1/agents"), 401)
    assert (await client.get("/openapi.json")).headers["content-type"] == "application/json"
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert "/static/scalar/standalone.js" in (await client.get("/scalar")).text


def test_dashboard_js_and_css_fit_the_size_budget():
    files = [path for path in ROOT.rglob("*") if path.suffix in {".js", ".css"}]
    assert len(files) >= 5
    total = sum(len(gzip.compress(path.read_bytes(), 9)) for path in files)
    assert total <= BUDGET_GZIPPED, f"dashboard JS+CSS is {total} bytes gzipped; the budget is {BUDGET_GZIPPED}"


def test_dashboard_code_never_turns_data_into_html():
    """API data is set as text: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval anywhere."""
    pattern = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(")
    offenders = [str(path) for path in ROOT.rglob("*.js") if pattern.search(path.read_text())]
    assert offenders == []


def test_dashboard_default_response_times_match_the_server():
    source = (ROOT / "pages" / "agent_form.js").read_text()
    bands = re.findall(
        r"\{ upToSeconds: (\d+), probability: ([\d.]+) \}",
        source.split("export const DEFAULT_RESPONSE_TIMES")[1].split("];")[0],
    )
    assert [(int(up), float(p)) for up, p in bands] == [
        (b.up_to_seconds, b.probability) for b in DEFAULT_RESPONSE_TIMES
    ]


def test_dashboard_group_limits_match_the_server():
    source = (ROOT / "pages" / "group_form.js").read_text()
    found = dict(re.findall(r"^const ([A-Z_]+) = (\d+);", source, re.MULTILINE))
    names = ("MIN_MEMBERS", "MAX_MEMBERS", "DEFAULT_TALKATIVENESS", "MAX_AGENT_TURNS", "DEFAULT_MAX_AGENT_TURNS")
    assert {name: int(found[name]) for name in names} == {name: getattr(groups, name) for name in names}


def test_dashboard_loads_nothing_from_other_origins():
    for path in Path(ROOT).rglob("*"):
        if path.is_file():
            assert not re.search(r"https?://(?!127\.0\.0\.1|www\.w3\.org/2000/svg)", path.read_text()), path
