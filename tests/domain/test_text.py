"""json_fault finds exactly what parsing and fault_in find, though it skips the parse for most bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from novaro_lite.domain.text import fault_in, json_fault, loads

# Text of every kind the rule cares about: NUL, lone surrogates, pairs, digits and letters that look like escapes.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(["\x00", "\ud800", "\udfff", "\U0001f600", "é", "u", "\\", "0", "e", "E", "N", "I"]),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
NUMBER = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.just(1e308), st.just(10.0**300))
VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBER, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _spelled(value: Any, ascii_only: bool, encoding: str) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode(encoding, "surrogatepass")


@settings(max_examples=400)
@given(VALUE, st.booleans(), st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_json_fault_agrees_with_parsing_then_checking(value: Any, ascii_only: bool, encoding: str) -> None:
    raw = _spelled(value, ascii_only, encoding)
    try:
        expected = fault_in(loads(raw), ["body"])
    except ValueError:  # not text json.loads reads (a surrogate spelled raw in UTF-8): neither says anything
        expected = None
    assert json_fault(raw, ["body"]) == expected


@pytest.mark.parametrize(
    ("raw", "place"),
    [
        (rb'{"a": "x\u0000"}', ["body", "a"]),
        (rb'{"\ud83d": 1}', ["body", "\\ud83d"]),
        (rb'["ok", "\uDFFF"]', ["body", 1]),
        (b"[1, 2e400]", ["body", 1]),
        (b'{"n": -Infinity}', ["body", "n"]),
        (b"[" + b"9" * 309 + b".5]", ["body", 0]),
    ],
)
def test_json_fault_names_the_place(raw: bytes, place: list[str | int]) -> None:
    found = json_fault(raw, ["body"])
    assert found is not None and found[0] == place


def test_text_that_is_no_json_or_spells_an_escape_as_text_breaks_no_rule() -> None:
    # Not JSON at all: the schema's parser is left to refuse it. A backslash escaped before "u0000" is text.
    assert json_fault(b'{"a": "plain text", "n": 12.5', ["body"]) is None
    assert json_fault(b'{"a": "\\\\u0000 is six characters here"}', ["body"]) is None
