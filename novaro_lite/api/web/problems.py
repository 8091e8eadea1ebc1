"""RFC 9457 problems: the JSON body every error outside /v1 answers, and the exception handlers that build it.

novaro_lite.errors says what went wrong; this module says how that looks on the wire. Each problem `type` is a
page the server serves (api/docs/pages.py renders them from problem_pages()).
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from novaro_lite.errors import AppError, NotFoundError
from novaro_lite.observability.logs import route_of

logger = logging.getLogger(__name__)

PROBLEM_TYPE_PREFIX = "/problems/"  # each type is a page the server serves (RFC 9457 §3.1.1)
PROBLEM_MEDIA_TYPE = "application/problem+json"


# Problems that Starlette's router raises, besides the AppError types.
ROUTER_PROBLEMS: Mapping[int, tuple[str, str]] = MappingProxyType(
    {
        404: ("not-found", NotFoundError.about),
        405: (
            "method-not-allowed",
            "The path exists, but not with this method; the `Allow` header lists those it has.",
        ),
    }
)


def problem_type(slug: str) -> str:
    """The problem `type` URI of a slug: a page this server serves, relative to the API's own address."""
    return PROBLEM_TYPE_PREFIX + slug


def problem_pages() -> dict[str, tuple[str, str]]:
    """Every problem type the server answers, by slug: its title and what it means."""
    pages: dict[str, tuple[str, str]] = {}
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        pages[cls.slug] = (cls.title, cls.about)
        pending.extend(cls.__subclasses__())
    for status, (slug, about) in ROUTER_PROBLEMS.items():
        pages.setdefault(slug, (http.HTTPStatus(status).phrase, about))
    return pages


def problem(
    status: int,
    detail: str,
    *,
    type: str = PROBLEM_TYPE_PREFIX + AppError.slug,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    """Build an application/problem+json response."""
    body: dict[str, Any] = {
        "type": type,
        "title": title or http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body |= extensions or {}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _http_detail(request: Request, exc: HTTPException) -> str:
    if exc.status_code == 404:
        return f"There is no route for {request.url.path}."
    if exc.status_code == 405:
        allowed = exc.headers.get("Allow", "") if exc.headers else ""
        return f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}."
    return str(exc.detail)


async def problem_response(request: Request, exc: Exception) -> Response:
    """Exception handler for AppError and Starlette's HTTPException (router 404/405 included)."""
    if isinstance(exc, AppError):
        return problem(
            exc.status,
            exc.detail,
            type=problem_type(exc.slug),
            title=exc.title,
            errors=exc.errors,
            headers=exc.headers,
            extensions=exc.extensions,
        )
    assert isinstance(exc, HTTPException)
    slug = ROUTER_PROBLEMS[exc.status_code][0] if exc.status_code in ROUTER_PROBLEMS else None
    return problem(
        exc.status_code,
        _http_detail(request, exc),
        type=problem_type(slug) if slug else "about:blank",
        headers=exc.headers,
    )


async def server_error_response(request: Request, exc: Exception) -> Response:
    """Log the traceback of an unexpected exception and answer a generic 500 problem."""
    logger.exception("unhandled error on %s %s", request.method, route_of(request.scope), exc_info=exc)
    return problem(500, "The server hit an unexpected error; it has been logged.")


def problem_body(error: AppError) -> dict[str, Any]:
    """The problem an AppError answers, where no response carries it: a stream's error event, a raw 431."""
    return {"type": problem_type(error.slug), "title": error.title, "status": error.status, "detail": error.detail}
