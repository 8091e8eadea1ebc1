"""Errors under /v1 in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, which its clients parse.

Everything else answers RFC 9457 problems (api/web/problems.py); `scoped` picks the shape by path, so the
same exceptions (AppError, router 404/405, unexpected ones) serve both.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from novaro_lite.errors import AppError, BadRequestError, ValidationError
from novaro_lite.observability.logs import route_of

logger = logging.getLogger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]
PREFIX = "/v1/"
_CODES = {
    401: "invalid_api_key",
    431: "request_header_fields_too_large",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "rate_limit_exceeded",  # the token's own limit (issue 14); OpenAI's clients back off on this code
    500: "internal_error",
    502: "upstream_error",
    503: "upstream_unavailable",
    504: "upstream_timeout",
    507: "insufficient_storage",
}


class OpenAIRequestError(BadRequestError):
    """A 400 of the /v1 face with OpenAI's `code` for it (unsupported_parameter, ambiguous_model…)."""

    def __init__(self, detail: str, code: str, *, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)
        self.code = code


def is_openai_path(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def _param(errors: list[dict[str, Any]] | None) -> str | None:
    """`messages[2].content` from the loc ["body", "messages", 2, "content"] of the first field error."""
    if not errors:
        return None
    param = ""
    for part in errors[0]["loc"][1:]:
        if isinstance(part, str) and ("[" in part or "-" in part):
            continue  # pydantic's name for a member of a union (list[constrained-str]), not a field
        param += f"[{part}]" if isinstance(part, int) else f".{part}" if param else str(part)
    return param or None


def _code(status: int, param: str | None) -> str:
    if status == 404:
        return "model_not_found" if param == "model" else "not_found"
    if status == 400:
        return "unsupported_parameter" if param else "invalid_request"
    return _CODES.get(status, "error")


def openai_error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code or _code(status, param)}}


def openai_error(
    status: int,
    message: str,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
) -> Response:
    return JSONResponse(openai_error_body(status, message, param, code), status_code=status, headers=headers)


async def openai_error_response(request: Request, exc: Exception) -> Response:
    """Exception handler for /v1: AppError, Starlette's HTTPException, and anything unexpected.

    A request whose values do not validate is a 400, as OpenAI answers it (its clients raise
    BadRequestError), where the rest of the API says 422.
    """
    if isinstance(exc, OpenAIRequestError):
        return openai_error(400, exc.detail, param=_param(exc.errors), code=exc.code)
    if isinstance(exc, ValidationError):
        return openai_error(400, exc.detail, param=_param(exc.errors), headers=exc.headers, code="invalid_value")
    if isinstance(exc, AppError):
        return openai_error(exc.status, exc.detail, param=_param(exc.errors), headers=exc.headers)
    if isinstance(exc, HTTPException):
        if exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}."
        elif exc.status_code == 404:
            message = (
                f"There is no route for {request.url.path}; novaro-lite serves /v1/chat/completions and /v1/models."
            )
        else:
            message = str(exc.detail)
        return openai_error(exc.status_code, message, headers=exc.headers)
    logger.exception("unhandled error on %s %s", request.method, route_of(request.scope), exc_info=exc)
    return openai_error(500, "The server hit an unexpected error; it has been logged.")


def scoped(problem_handler: Handler) -> Handler:
    """Answer in OpenAI's shape under /v1, else with `problem_handler`."""

    async def handler(request: Request, exc: Exception) -> Response:
        if is_openai_path(request.url.path):
            return await openai_error_response(request, exc)
        return await problem_handler(request, exc)

    return handler
