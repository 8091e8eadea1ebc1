"""The Chat Completions request model under any JSON value in any field: a validation error or an answer the
handler can give (an AppError at worst), never an exception that would be a 500."""

from __future__ import annotations

import json
from typing import Any

import pydantic
from hypothesis import given, settings, strategies as st

from novaro_lite.api.openai.handlers import _check_supported, _context_ids, _conversation
from novaro_lite.api.schemas.openai import ChatCompletionRequest
from novaro_lite.errors import AppError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Every field the model declares, and fields OpenAI's clients send that it leaves to extras.
FIELDS = sorted({*ChatCompletionRequest.model_fields, "seed", "store", "frequency_penalty", "parallel_tool_calls"})
VALID = {"model": "agt_x", "messages": [{"role": "user", "content": "hi"}]}


def handle(body: dict[str, Any]) -> None:
    """What chat_completions does with a body before it looks anything up."""
    try:
        request = ChatCompletionRequest.model_validate_json(json.dumps(body))
    except pydantic.ValidationError:
        return
    try:
        _check_supported(request)
        _conversation(request)
        _context_ids(request)
        request.sampling()
    except AppError as exc:
        assert exc.status < 500, exc


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_any_field_is_refused_or_handled_never_a_crash(field: str, value: Any):
    handle(VALID | {field: value})


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(["role", "content", "name"]), value=json_values)
def test_any_value_in_a_message_is_refused_or_handled(field: str, value: Any):
    handle(VALID | {"messages": [{"role": "user", "content": "hi", field: value}]})


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_any_context_ids_are_refused_or_handled(value: Any):
    handle(VALID | {"metadata": {"contextIds": value}})
