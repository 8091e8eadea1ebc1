"""Application errors and their RFC 9457 problem responses.

    AppError                      500  base class; never raised bare
    ├── BadRequestError           400  the body is not JSON, or not a JSON object
    ├── AuthError                 401  missing, malformed, unknown, revoked or expired token
    ├── NotFoundError             404  no such resource in the caller's account
    ├── ConflictError             409  the resource's state forbids the change
    ├── PayloadTooLargeError      413  the body is larger than max_body_bytes
    ├── ValidationError           422  the body or query does not match the schema; carries `errors`
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
from typing import Any, ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

logger = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://novaro-lite.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class AppError(Exception):
    status: ClassVar[int] = 500
    type: ClassVar[str] = "about:blank"
    title: ClassVar[str] = "Internal Server Error"

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


class BadRequestError(AppError):
    status = 400
    type = PROBLEM_TYPE_BASE + "bad-request"
    title = "Bad request"


class AuthError(AppError):
    status = 401
    type = PROBLEM_TYPE_BASE + "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="novaro-lite"'})


class NotFoundError(AppError):
    status = 404
    type = PROBLEM_TYPE_BASE + "not-found"
    title = "Not found"


class ConflictError(AppError):
    status = 409
    type = PROBLEM_TYPE_BASE + "conflict"
    title = "Conflict"


class PayloadTooLargeError(AppError):
    status = 413
    type = PROBLEM_TYPE_BASE + "payload-too-large"
    title = "Payload too large"


class ValidationError(AppError):
    status = 422
    type = PROBLEM_TYPE_BASE + "validation"
    title = "Validation failed"


class ProviderError(AppError):
    status = 502
    type = PROBLEM_TYPE_BASE + "provider"
    title = "Upstream provider failed"


class ProviderTimeoutError(ProviderError):
    status = 504
    type = PROBLEM_TYPE_BASE + "provider-timeout"
    title = "Upstream provider timed out"


class ProviderBusyError(ProviderError):
    status = 503
    type = PROBLEM_TYPE_BASE + "provider-busy"
    title = "Upstream provider is rate limiting"


class UnavailableError(AppError):
    status = 503
    type = PROBLEM_TYPE_BASE + "unavailable"
    title = "Service unavailable"


def problem(
    status: int,
    detail: str,
    *,
    type: str = "about:blank",
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
    return problem(exc.status_code, _http_detail(request, exc), headers=exc.headers)


async def server_error_response(request: Request, exc: Exception) -> Response:
    """Log the traceback of an unexpected exception and answer a generic 500 problem."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "The server hit an unexpected error; it has been logged.")
