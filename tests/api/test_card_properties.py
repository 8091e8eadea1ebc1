"""A property of card import (issue 20): whatever value is put at any string or number of a card, JSON or PNG,
the import answers 201 and the agent exports as strict JSON, or a 422 naming that place; never a 500."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from starlette.testclient import TestClient

from novaro_lite.app import create_app
from novaro_lite.config.settings import Settings
from tests.fakes.cards import card_png, v1_card, v3_card

Path = list[str | int]
NUL, SURROGATES = "\x00", st.integers(0xD800, 0xDFFF).map(chr)


def leaves(value: Any, path: Path) -> Iterator[Path]:
    """The path of every string and number in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, [*path, index])
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield path


CARDS = {"v3": v3_card(), "v1": v1_card()}
PLACES = [(kind, path) for kind, card in CARDS.items() for path in leaves(card, [])]
# Values the text rule refuses, and the message that says so.
BAD = st.one_of(
    st.tuples(st.text(max_size=5), st.sampled_from([NUL]) | SURROGATES, st.text(max_size=5)).map("".join),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
)
# Anything else a card may hold there: text of any kind (astral, controls), odd numbers, wrong types.
OTHER = st.one_of(
    st.text().filter(lambda text: not breaks_the_rule(text)),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=3),
)


def breaks_the_rule(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, str) and (NUL in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value))


def put(card: Any, path: Path, value: Any) -> Any:
    copy = json.loads(json.dumps(card))
    *parents, last = path
    target = copy
    for step in parents:
        target = target[step]
    target[last] = value
    return copy


@pytest.fixture
def sync_client(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        storage = client.app.state.services.storage  # type: ignore[attr-defined]
        secret = client.portal.call(storage.tokens.create, "props", "acme", None)[1]  # type: ignore[union-attr]
        yield client, {"Authorization": f"Bearer {secret}"}


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(PLACES), value=st.one_of(BAD, OTHER), as_png=st.booleans())
def test_any_value_anywhere_is_201_and_exportable_or_a_422_naming_it(sync_client, place, value, as_png):
    client, auth = sync_client
    kind, path = place
    raw = json.dumps(put(CARDS[kind], path, value)).encode()  # NaN and Infinity as JS writes them; \ud800 escaped
    chunk: Path = []
    if as_png:
        raw, chunk = card_png([("chara", base64.b64encode(raw).decode())]), ["chara"]
    response = client.post("/api/v1/agents/import", content=raw, headers=auth)
    assert response.status_code in (201, 422), response.text
    if breaks_the_rule(value):
        assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", *chunk, *path]
        return
    if response.status_code == 422:
        return  # the agent rules refused it (a wrong type, a name too long…), naming a place in the card
    agent = response.json()["id"]
    for query in ("", "?spec=v2", "?format=png"):
        exported = client.get(f"/api/v1/agents/{agent}/card{query}", headers=auth)
        assert exported.status_code == 200, exported.text
        if "png" not in query:
            json.loads(exported.content, parse_constant=lambda name: pytest.fail(f"{name} in an export"))
