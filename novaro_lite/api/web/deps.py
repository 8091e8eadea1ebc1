"""Request helpers: the typed accessor for Services, the caller's token, and body/query parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import pydantic
from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.domain.text import Loc, fault_in, loads, string_fault
from novaro_lite.domain.tokens import Token
from novaro_lite.errors import BadRequestError, PayloadTooLargeError, ValidationError
from novaro_lite.services import Services

Endpoint = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=pydantic.BaseModel)


def services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def caller(request: Request) -> Token:
    """Return the token that authenticated this request (set by api.auth.require_token)."""
    return cast(Token, request.state.token)


def _field_errors(exc: pydantic.ValidationError, where: str) -> list[dict[str, Any]]:
    return [
        {"loc": [where, *error["loc"]], "msg": error["msg"].removeprefix("Value error, ")}
        for error in exc.errors(include_url=False)
    ]


def _validation_error(errors: list[dict[str, Any]], where: str) -> ValidationError:
    first = errors[0]
    place = ".".join(str(part) for part in first["loc"][1:]) or where
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    message = str(first["msg"]).rstrip(".")
    return ValidationError(f"The request {where} is invalid at {place}: {message}{more}.", errors=errors)


def invalid(loc: list[str | int], msg: str) -> ValidationError:
    """A 422 for one bad value found after schema validation; loc starts with body, query or path."""
    return _validation_error([{"loc": loc, "msg": msg}], str(loc[0]))


def _text_fault(raw: bytes) -> tuple[Loc, str] | None:
    """Where a JSON body breaks the text rule (domain/text.py), checked before the schema sees it: the schema's
    parser calls a lone surrogate invalid JSON (a 400 naming nothing) and takes NaN and 1e999 as numbers."""
    try:
        return fault_in(loads(raw), ["body"])
    except (ValueError, RecursionError):
        return None  # not JSON, or nested past Python's limit: the schema's parser says what is wrong


async def read_bytes(request: Request, limit: int | None = None) -> bytes:
    """Read the raw body, 413 past `limit` bytes (default: the max_body_bytes setting)."""
    limit = limit or services(request).settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"The request body is {declared} bytes; the limit is {limit} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"The request body is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body(request: Request, model: type[M]) -> M:
    """Parse the JSON body into `model`: 413 when too large, 400 when not a JSON object, 422 when invalid."""
    # A UTF-8 byte order mark is allowed before JSON text (RFC 8259 §8.1 lets parsers ignore it); some
    # Windows tools write one.
    raw = (await read_bytes(request)).removeprefix(b"\xef\xbb\xbf")
    if (fault := _text_fault(raw)) is not None:
        raise invalid(*fault)
    try:
        parsed = model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            reason = first["msg"].removeprefix("Invalid JSON: ")
            raise BadRequestError(f"The request body is not valid JSON: {reason}.") from None
        if first["type"] == "model_type" and not first["loc"]:
            raise BadRequestError("The request body must be a JSON object.") from None
        raise _validation_error(_field_errors(exc, "body"), "body") from None
    return parsed


def read_query(request: Request, model: type[M]) -> M:
    for name, value in request.query_params.items():
        if (message := string_fault(value)) is not None:
            raise invalid(["query", name], message)
    try:
        return model.model_validate(dict(request.query_params))
    except pydantic.ValidationError as exc:
        raise _validation_error(_field_errors(exc, "query"), "query") from None


def json_response(model: pydantic.BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(by_alias=True), status_code=status, media_type="application/json")
