"""The one rule for text on every way in: no NUL, no lone UTF-16 surrogate, no number that is not finite.

PostgreSQL cannot store NUL in text and SQLite can, so without one rule the engines would differ. A lone
surrogate (an escaped \\ud800…\\udfff that is not half of a pair) is no character at all: it cannot be
encoded as UTF-8, so storing or exporting it fails. NaN and Infinity are not JSON: an export holding one
could not be read back. A JSON body, a card (JSON, PNG chunk, CHARX), a lorebook entry and a generated
agent are all checked by `fault_in` before anything is stored; exports then write strict JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

NUL = "\x00"
NUL_MESSAGE = "may not contain the NUL character (U+0000)"
SURROGATE_MESSAGE = "may not contain a lone UTF-16 surrogate (U+D800 to U+DFFF): it is not a character"
NOT_FINITE_MESSAGE = "must be a finite number (NaN and Infinity are not JSON)"
_SURROGATE = re.compile("[\ud800-\udfff]")
# What JSON text must hold to break the rule: an escaped NUL or surrogate (JSON carries neither raw), NaN or
# Infinity, a number with an exponent or with more whole digits than a finite float has, or a NUL byte (text in
# UTF-16 or UTF-32, which json.loads reads too). Bytes with none of these keep the rule without being parsed.
_MAYBE_FAULT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity|\d[eE]|\d{309}|\x00")

Loc = list[str | int]


def mended(text: str) -> str:
    """Text from a peer (a model's reply, an upstream's error) made to fit the rule where it can be stored and
    sent: each lone surrogate becomes U+FFFD. NUL stays; JSON carries it escaped."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def string_fault(text: str) -> str | None:
    """What is wrong with one string under the rule, or None."""
    if NUL in text:
        return NUL_MESSAGE
    if _SURROGATE.search(text):  # json.loads joins escaped pairs, so any surrogate left stands alone
        return SURROGATE_MESSAGE
    return None


def fault_in(value: Any, loc: Loc) -> tuple[Loc, str] | None:
    """The first place in a parsed JSON value (keys included) that breaks the rule, and what is wrong there."""
    if isinstance(value, str):
        message = string_fault(value)
        return None if message is None else (loc, message)
    if isinstance(value, float):
        return None if math.isfinite(value) else (loc, NOT_FINITE_MESSAGE)
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and (message := string_fault(key)) is not None:
            # The place names the key with its surrogates spelled as escapes: the answer must be UTF-8 itself.
            return [*loc, key.encode("utf-8", "backslashreplace").decode("utf-8")], message
        if (found := fault_in(item, [*loc, key])) is not None:
            return found
    return None


def json_fault(raw: bytes, loc: Loc) -> tuple[Loc, str] | None:
    """`fault_in` of JSON text (None if it is not JSON), parsed only when its bytes could break the rule: a body
    without escapes, NaN or large numbers (nearly every one) costs a scan of its bytes, not a second parse."""
    if _MAYBE_FAULT.search(raw) is None:
        return None
    try:
        return fault_in(loads(raw), loc)
    except (ValueError, RecursionError):
        return None  # not JSON, or nested past Python's limit


def loads(raw: bytes | str) -> Any:
    """Parse JSON as Python does, with NaN and Infinity read as floats so that `fault_in` can name them.

    Raises ValueError (or RecursionError) on text that is not JSON.
    """
    return json.loads(raw, parse_constant=float)


def dumps(value: Any) -> str:
    """Strict JSON text (no NaN or Infinity), UTF-8 friendly: what every export and stored JSON column uses."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
