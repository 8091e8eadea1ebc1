"""errors.py's docstring draws the error hierarchy; the drawing must match the classes the module defines."""

from __future__ import annotations

import inspect
import re

from novaro_lite import errors


def _drawn() -> dict[str, str | None]:
    """Each class the docstring draws, with the parent its indentation puts it under (None for the root)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^([\s│├└─]*)([A-Z]\w*Error)\b", line)
        if match is None:
            continue
        depth = len(match.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(2)))
    return parents


def test_docstring_draws_every_error_class_under_its_parent():
    defined = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.AppError) and cls.__module__ == errors.__name__
    }
    drawn = _drawn()
    assert len(drawn) >= 2 and "AppError" in drawn, drawn
    assert set(drawn) == set(defined)
    for name, cls in defined.items():
        parent = cls.__mro__[1].__name__ if cls is not errors.AppError else None
        assert drawn[name] == parent, f"{name} is drawn under {drawn[name]}, but subclasses {parent}"


def test_docstring_states_each_class_status():
    for line in (errors.__doc__ or "").splitlines():
        match = re.search(r"([A-Z]\w*Error)\s+(\d{3})\b", line)
        if match:
            assert getattr(errors, match.group(1)).status == int(match.group(2)), line
