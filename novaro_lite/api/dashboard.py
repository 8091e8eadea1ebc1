"""The dashboard: its pages (one HTML shell for every client-side URL) and its static files.

The dashboard is a plain client of the public API (docs/design.md, The dashboard): nothing here reads storage. Every
answer carries a strict Content-Security-Policy (api/web/security_headers.py), so even a bug that put API data
into HTML could not run a script.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from novaro_lite.api.web.caching import unchanged
from novaro_lite.api.web.security_headers import SECURITY_HEADERS
from novaro_lite.errors import NotFoundError

ROOT = Path(__file__).resolve().parent.parent / "static" / "dashboard"
# Client-side URLs: each serves the same shell, so a reload or a shared link opens that page.
# Listed one by one (no catch-all), so an unknown path, /api/… above all, stays a JSON problem 404.
PAGES = (
    "/",
    "/agents",
    "/agents/{id}",
    "/groups",
    "/groups/{id}",
    "/contexts",
    "/webhooks",
    "/requests",
    "/requests/{id}",
    "/tokens",
)
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}


def _file_response(request: Request, path: Path) -> Response:
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    # no-cache: the browser revalidates (a cheap 304), so a new version of a module is never mixed with old ones.
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache", "ETag": etag}
    if unchanged(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPES[path.suffix], headers=headers)


async def page(request: Request) -> Response:
    return _file_response(request, ROOT / "index.html")


async def asset(request: Request) -> Response:
    """Serve a file of the dashboard: only .js, .css and .svg files inside its own folder."""
    name = request.path_params["path"]
    if "\x00" in name:  # no file has one, and resolving such a path raises
        raise NotFoundError(f"The dashboard has no file {name!r}.")
    path = (ROOT / name).resolve()
    if not path.is_relative_to(ROOT) or path.suffix not in MEDIA_TYPES or path.suffix == ".html" or not path.is_file():
        raise NotFoundError(f"The dashboard has no file {name!r}.")
    return _file_response(request, path)


def routes() -> list[BaseRoute]:
    pages: list[BaseRoute] = [Route(path, page, methods=["GET"], name=f"dashboard:page{path}") for path in PAGES]
    return [*pages, Route("/dashboard/{path:path}", asset, methods=["GET"], name="dashboard:asset")]
