"""Settings to JSON and back, value for value: how `serve --workers` hands its Settings to the workers.

The parent resolves Settings once (defaults, TOML, environment, command-line flags), and each worker must
run with exactly those, not with a second resolution that could differ (a flag such as --port exists only
in the parent's argv; a config file may change between the two reads). uvicorn starts a worker as a fresh
interpreter that calls an app factory without arguments, so the one thing a worker inherits from the
parent is its environment, and the Settings travel there as JSON (workers/handoff.py names the variable).

Decoding follows the dataclasses' own type hints, so a field added to Settings or a section travels
without a change here, as long as its type is one of those below; any other type fails the encoding,
loudly, at start-up (tests/config/test_codec.py round-trips every field). Secrets travel as their value:
the variable is visible only to the parent, its workers and their user, who already hold them (provider
keys and the metrics token come from environment variables to begin with). Never logged. Imports only
config's own modules.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.datastructures import Secret

from novaro_lite.config.settings import Settings


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Secret | Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    raise TypeError(f"config_codec cannot carry a {type(value).__name__}; teach it the type")


def _typed(kind: Any, raw: Any) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if raw is None and type(None) in args:
            return None
        (kind,) = (arg for arg in args if arg is not type(None))
        return _typed(kind, raw)
    if origin is tuple:
        return tuple(_typed(args[0], item) for item in raw)
    if origin is Mapping:
        return types.MappingProxyType({key: _typed(args[1], item) for key, item in raw.items()})
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        return kind(**{field.name: _typed(hints[field.name], raw[field.name]) for field in dataclasses.fields(kind)})
    if kind is float:
        return float(raw)  # JSON writes 2.0 as 2.0, but a hand-made 2 is a float here too
    if kind in (Secret, Path):
        return kind(raw)
    if kind in (str, int, bool) and type(raw) is kind:
        return raw
    raise TypeError(f"config_codec cannot read {raw!r} as {kind}")


def settings_to_json(settings: Settings) -> str:
    """Write Settings as JSON, secrets included (see the module docstring for where it may go)."""
    return json.dumps(_plain(settings))


def settings_from_json(text: str) -> Settings:
    """Read Settings written by settings_to_json; the dataclasses check their values again on the way in."""
    settings = _typed(Settings, json.loads(text))
    assert isinstance(settings, Settings)
    return settings
