"""Application errors and their RFC 9457 problem responses.

    AppError                      500  base class; never raised bare
    ├── BadRequestError           400  the body is not JSON, or not a JSON object
    ├── AuthError                 401  missing, malformed, unknown, revoked or expired token
    ├── NotFoundError             404  no such resource in the caller's account
    ├── ConflictError             409  the resource's state forbids the change
    ├── PayloadTooLargeError      413  the body is larger than max_body_bytes
    ├── ValidationError           422  the body or query does not match the schema; carries `errors`
    ├── HeadersTooLargeError      431  the request head is too large (raised by http_server, not the app)
    ├── ProviderError             502  an upstream model provider failed or answered nonsense
    │   ├── ProviderTimeoutError  504  an upstream model provider timed out
    │   └── ProviderBusyError     503  an upstream model provider still said 429 after retries
    └── UnavailableError          503  a dependency (the database) is unusable

Domain and storage code raise these; only errors.py and the api package turn them into responses.
This module must not import storage, scheduler or providers.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

logger = logging.getLogger(__name__)

PROBLEM_TYPE_PREFIX = "/problems/"  # each type is a page the server serves (RFC 9457 §3.1.1)
PROBLEM_MEDIA_TYPE = "application/problem+json"


class AppError(Exception):
    """Base of the errors the API answers as problems; `slug` names its type, served at /problems/<slug>."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal Server Error"
    about: ClassVar[str] = "The server hit an unexpected error. It logged the details; the request did nothing."

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    @property
    def type(self) -> str:
        return problem_type(self.slug)


class BadRequestError(AppError):
    status, slug, title = 400, "bad-request", "Bad request"
    about = "The request body could not be read: it is not valid JSON, or not a JSON object."


class AuthError(AppError):
    status, slug, title = 401, "unauthorized", "Unauthorized"
    about = (
        "The request needs `Authorization: Bearer nl_…` with a token that exists, is not revoked and has not"
        " expired; `detail` says which of these failed. Create tokens with `novaro-lite token create`."
    )

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="novaro-lite"'})


class NotFoundError(AppError):
    status, slug, title = 404, "not-found", "Not found"
    about = "There is no such route, or no resource with that id in the account of the token used."


class ConflictError(AppError):
    status, slug, title = 409, "conflict", "Conflict"
    about = "The resource's current state does not allow the change; `detail` says what stands in the way."


class PayloadTooLargeError(AppError):
    status, slug, title = 413, "payload-too-large", "Payload too large"
    about = "The request body is larger than the server accepts (the operator's `max_body_bytes`)."


class HeadersTooLargeError(AppError):
    status, slug, title = 431, "headers-too-large", "Request header fields too large"
    about = "The request line, one header, or all headers together are larger than the server reads (16/64 KiB)."


class RateLimitedError(AppError):
    status, slug, title = 429, "rate-limited", "Too many requests"
    about = "The token made more requests this minute than its rate limit; `Retry-After` says when to try again."


class ValidationError(AppError):
    status, slug, title = 422, "validation", "Validation failed"
    about = (
        "A value in the body, query, path or a header does not match the API's schema or rules. `errors` lists"
        " each one: `loc` is where (`body`, `query`, `path` or `header`, then the field path), `msg` what is wrong."
    )


class ProviderError(AppError):
    status, slug, title = 502, "provider", "Upstream provider failed"
    about = "The model provider that writes the agent's reply failed or answered something unusable."


class ProviderTimeoutError(ProviderError):
    status, slug, title = 504, "provider-timeout", "Upstream provider timed out"
    about = "The model provider did not answer in time."


class ProviderBusyError(ProviderError):
    status, slug, title = 503, "provider-busy", "Upstream provider is rate limiting"
    about = "The model provider kept answering 429 (too many requests); try again later."


class UnavailableError(AppError):
    status, slug, title = 503, "unavailable", "Service unavailable"
    about = "A dependency of the server, such as its database, is unusable right now."


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
        return problem(exc.status, exc.detail, type=exc.type, title=exc.title, errors=exc.errors, headers=exc.headers)
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
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "The server hit an unexpected error; it has been logged.")
