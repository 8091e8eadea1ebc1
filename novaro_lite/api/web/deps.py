"""Request helpers: the typed accessor for Services, the caller's token, and body/query parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import pydantic
from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.domain.text import json_fault, loads, string_fault
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


# What a member of a union says when the value is not of its type: beside a member of the value's own type that
# said what is wrong with it, noise ("Input should be 'immediate'" about {"seconds": -1}).
# A PATCH field's `| None` member says "Input should be null" (none_required) about any other value.
_OTHER_TYPE = frozenset(
    {"literal_error", "int_parsing", "float_parsing", "bool_parsing", "datetime_parsing", "none_required"}
)


def _place(loc: tuple[str | int, ...], given: Any, missing: bool) -> tuple[list[str | int], bool]:
    """The loc as a place in what was sent, and whether it passed through a union: pydantic puts the name of
    the union member it tried in the loc (`FixedDelay`, `literal['immediate']`, `constrained-int`), which is
    no place at all. A part not found in the value is such a name, unless it is the field a `missing` names."""
    place: list[str | int] = []
    value, through_union = given, False
    for index, part in enumerate(loc):
        if isinstance(value, dict) and isinstance(part, str) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        elif not (missing and index == len(loc) - 1):
            through_union = True
            continue
        place.append(part)
    return place, through_union


def field_errors(exc: pydantic.ValidationError, where: str, given: Any) -> list[dict[str, Any]]:
    """Each error at its place in `given` (what was sent); of a union's members, the ones the value is not of
    are left out when another said more (at the same place, or deeper: a member that took the value's shape and
    found a fault inside it), and a field's null member whenever another member spoke."""
    found: list[tuple[dict[str, Any], bool, bool]] = []
    for error in exc.errors(include_url=False):
        place, through_union = _place(error["loc"], given, error["type"] == "missing")
        other_type = through_union and (error["type"].endswith("_type") or error["type"] in _OTHER_TYPE)
        entry: dict[str, Any] = {"loc": [where, *place], "msg": error["msg"].removeprefix("Value error, ")}
        found.append((entry, other_type, error["type"] == "none_required"))
    said = [entry["loc"] for entry, other_type, _ in found if not other_type]
    deeper = [entry["loc"] for entry, _, _ in found]
    shaped = [entry["loc"] for entry, _, null in found if not null]
    errors: list[dict[str, Any]] = []
    for entry, other_type, null in found:
        place = entry["loc"]
        if other_type and (
            any(loc[: len(place)] == place for loc in said)
            or any(len(loc) > len(place) and loc[: len(place)] == place for loc in deeper)
        ):
            continue
        if null and any(loc[: len(place)] == place for loc in shaped):
            continue
        same = next((error for error in errors if error["loc"] == place), None) if other_type else None
        if same is not None:  # no member took the value's type: one message naming every shape it may take
            same["msg"] += " or " + entry["msg"].removeprefix("Input should be ")
        elif entry not in errors:
            errors.append(entry)
    return errors


def _validation_error(errors: list[dict[str, Any]], where: str) -> ValidationError:
    first = errors[0]
    place = ".".join(str(part) for part in first["loc"][1:]) or where
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    message = str(first["msg"]).rstrip(".")
    return ValidationError(f"The request {where} is invalid at {place}: {message}{more}.", errors=errors)


def invalid(loc: list[str | int], msg: str) -> ValidationError:
    """A 422 for one bad value found after schema validation; loc starts with body, query or path."""
    return _validation_error([{"loc": loc, "msg": msg}], str(loc[0]))


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
    # Checked before the schema sees it: the schema's parser calls a lone surrogate invalid JSON (a 400 naming
    # nothing) and takes NaN and 1e999 as numbers. Not JSON: the schema's parser says what is wrong.
    if (fault := json_fault(raw, ["body"])) is not None:
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
        raise _validation_error(field_errors(exc, "body", loads(raw)), "body") from None
    return parsed


def read_query(request: Request, model: type[M]) -> M:
    for name, value in request.query_params.items():
        if (message := string_fault(value)) is not None:
            raise invalid(["query", name], message)
    given = dict(request.query_params)
    try:
        return model.model_validate(given)
    except pydantic.ValidationError as exc:
        raise _validation_error(field_errors(exc, "query", given), "query") from None


def json_response(model: pydantic.BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(by_alias=True), status_code=status, media_type="application/json")
