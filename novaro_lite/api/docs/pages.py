"""Public API documentation: /openapi.json, the Scalar page at /scalar and its vendored bundle, and a page
for each problem type at /problems/<slug> (the `type` of every error the API answers)."""

from __future__ import annotations

import gzip
import html
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from novaro_lite.api.web.caching import unchanged
from novaro_lite.api.web.deps import Endpoint
from novaro_lite.api.web.problems import problem_pages
from novaro_lite.api.web.security_headers import SCALAR_HEADERS, SECURITY_HEADERS
from novaro_lite.errors import NotFoundError

SCALAR_BUNDLE = Path(__file__).resolve().parents[2] / "static" / "scalar" / "standalone.js.gz"
BUNDLE_CACHE = "public, max-age=604800"
# Everything that would reach out of the machine is off: fonts, developer tools, the AI agent, MCP.
SCALAR_CONFIG = {
    "url": "/openapi.json",
    "withDefaultFonts": False,
    "showDeveloperTools": "never",
    "agent": {"disabled": True},
    "mcp": {"disabled": True},
    "telemetry": False,
}
SCALAR_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>novaro-lite API reference</title>
<link rel="icon" href="/dashboard/icon.svg">
</head>
<body>
<div id="app"></div>
<script src="/static/scalar/start.js"></script>
<script src="/static/scalar/standalone.js"></script>
</body>
</html>
"""


# In a file of its own rather than inline, so the page runs under the dashboard's script policy. It runs
# before the bundle: Zod, inside Scalar, probes for eval (`Function("")`) unless told it is jitless, and that
# probe is a CSP violation; the reference starts once the bundle has loaded.
SCALAR_START = f"""globalThis.__zod_globalConfig = {{jitless: true}};
document.addEventListener("DOMContentLoaded", () => Scalar.createApiReference("#app", {json.dumps(SCALAR_CONFIG)}));
"""


def openapi_endpoint(document: dict[str, Any]) -> Endpoint:
    """Return an endpoint that serves `document`, serialised once."""
    body = json.dumps(document, separators=(",", ":")).encode()

    async def openapi(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return openapi


async def scalar_page(request: Request) -> Response:
    return HTMLResponse(SCALAR_PAGE, headers={**SCALAR_HEADERS, "Cache-Control": "no-cache"})


async def scalar_start(request: Request) -> Response:
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return Response(SCALAR_START, media_type="text/javascript", headers=headers)


async def scalar_bundle(request: Request) -> Response:
    """Serve the gzip-compressed bundle as is; decompress only for a client that cannot take gzip."""
    stat = SCALAR_BUNDLE.stat()
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    headers = {
        "Cache-Control": BUNDLE_CACHE,
        "Vary": "Accept-Encoding",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if unchanged(request, etag):
        return Response(status_code=304, headers=headers)
    compressed = SCALAR_BUNDLE.read_bytes()
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(compressed, media_type="text/javascript", headers=headers)
    return Response(gzip.decompress(compressed), media_type="text/javascript", headers=headers)


PROBLEM_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} · novaro-lite problem type</title>
<link rel="icon" href="/dashboard/icon.svg"></head>
<body>
<h1>{title}</h1>
<p>{about}</p>
<p>Responses of this type are <code>application/problem+json</code> (RFC 9457) with <code>type</code>,
<code>title</code>, <code>status</code> and a <code>detail</code> that says what went wrong in this request.
See the <a href="/scalar">API reference</a>.</p>
</body>
</html>
"""


def problem_page_endpoint() -> Endpoint:
    """Return the endpoint of /problems/{slug}: what each problem type means, rendered once."""
    pages = {
        slug: PROBLEM_PAGE.format(title=html.escape(title), about=html.escape(about))
        for slug, (title, about) in problem_pages().items()
    }

    async def problem_page(request: Request) -> Response:
        slug = request.path_params["slug"]
        if slug not in pages:
            raise NotFoundError(f"There is no problem type {slug!r}.")
        return HTMLResponse(pages[slug], headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"})

    return problem_page
