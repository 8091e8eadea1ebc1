"""Every number a client can send is bounded at the edge, and any value within the bounds is safe downstream."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import given, settings, strategies as st

from novaro_lite.api.docs.openapi import build_openapi
from novaro_lite.api.routes import operations
from novaro_lite.api.schemas.agents import AgentCreate, ResponseBandModel
from novaro_lite.api.schemas.messages import MessageIn
from novaro_lite.api.schemas.paging import PageQuery
from novaro_lite.api.schemas.requests import FixedDelay
from novaro_lite.domain.agents import MAX_BAND_SECONDS, ActiveHours, Agent
from novaro_lite.domain.timing import schedule_reply

SPEC = build_openapi(operations())
NUMBERS = st.one_of(st.integers(-(10**30), 10**30), st.floats(allow_nan=True, allow_infinity=True))


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _numeric_fields(
    schema: dict[str, Any], where: str, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, dict[str, Any]]]:
    if "$ref" in schema:
        name = schema["$ref"]
        if name in seen:
            return
        seen = seen | {name}
    schema = _resolve(schema)
    if schema.get("type") in ("integer", "number"):
        yield where, schema
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        yield from _numeric_fields(option, where, seen)
    for name, prop in schema.get("properties", {}).items():
        yield from _numeric_fields(prop, f"{where}.{name}", seen)
    if "items" in schema:
        yield from _numeric_fields(schema["items"], f"{where}[]", seen)


def _request_numbers() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            for parameter in op.get("parameters", []):
                found += _numeric_fields(parameter["schema"], f"{method} {path} {parameter['name']}")
            if "application/json" in op.get("requestBody", {}).get("content", {}):  # not a picture's bytes
                body = op["requestBody"]["content"]["application/json"]["schema"]
                found += _numeric_fields(body, f"{method} {path} body")
    return found


def test_every_numeric_field_of_every_request_has_both_bounds():
    found = _request_numbers()
    assert len(found) >= 8  # bands, probability, bubbles, delay, createdAt, limit, count, …
    unbounded = [
        where
        for where, schema in found
        if not ({"minimum", "exclusiveMinimum"} & set(schema) and {"maximum", "exclusiveMaximum"} & set(schema))
    ]
    assert unbounded == []


@given(NUMBERS)
def test_numbers_outside_the_bounds_are_refused_and_inside_accepted(value):
    checks: list[tuple[Callable[[Any], object], int, int, bool]] = [
        (lambda v: ResponseBandModel.model_validate({"upToSeconds": v, "probability": 1}), 0, MAX_BAND_SECONDS, False),
        (lambda v: ResponseBandModel.model_validate({"upToSeconds": 1, "probability": v}), 0, 1, True),
        (lambda v: FixedDelay.model_validate({"seconds": v}), -1, 7 * 86400, False),
        (
            lambda v: MessageIn.model_validate({"role": "user", "content": "x", "createdAt": v}),
            -1,
            253_402_128_000,
            False,
        ),
        (lambda v: PageQuery.model_validate({"limit": v}), 0, 200, False),
        (lambda v: AgentCreate.model_validate({"name": "x", "maxBubbles": v}), 0, 10, False),
    ]
    for validate, above, upto, may_be_float in checks:
        within = (
            (may_be_float or isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
            and value == value
            and above < value <= upto
        )
        try:
            validate(value)
        except ValueError:  # pydantic's ValidationError
            assert not within or (isinstance(value, float) and not may_be_float), value
        else:
            assert within, value


@settings(max_examples=200, deadline=None)
@given(
    bands=st.lists(st.integers(1, MAX_BAND_SECONDS), min_size=1, max_size=12, unique=True),
    start=st.integers(0, 24 * 60 - 1),
    end=st.integers(0, 24 * 60 - 1),
    zone=st.sampled_from(["UTC", "Pacific/Kiritimati", "America/Adak", "Europe/Berlin", "Australia/Lord_Howe"]),
    seed=st.integers(0, 2**32),
)
def test_any_agent_within_the_bounds_gets_a_storable_due_time(bands, start, end, zone, seed):
    hours = {"start": f"{start // 60:02}:{start % 60:02}", "end": f"{end // 60:02}:{end % 60:02}"}
    bands_in = [{"upToSeconds": up, "probability": 1 / len(bands)} for up in sorted(bands)]
    body = {"name": "Bounded", "timezone": zone, "activeHours": hours, "responseTimes": bands_in}
    agent = AgentCreate.model_validate(body).to_fields()
    stored = Agent(**vars(agent), id="agt_x", account="a", created_at=0, updated_at=0)
    assert isinstance(stored.active_hours, ActiveHours)
    now = 1_790_000_000.0
    due = schedule_reply(stored, now, random.Random(seed))
    # Reading waits for the next wake-up (a day at most, with jitter and DST), the draw adds at most a band,
    # and a due time in the sleep moves to a wake-up at most 9 times: under 11 days on top of the band.
    assert now <= due <= now + MAX_BAND_SECONDS + 11 * 86400
    assert int(due * 1000) < 2**63 and datetime.datetime.fromtimestamp(due, datetime.UTC).year < 2100
