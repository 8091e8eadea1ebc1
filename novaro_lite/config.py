"""Settings: one frozen dataclass with a default and a help string per key, and load_settings().

Precedence: defaults < TOML file < NOVARO_LITE_* environment < CLI flags (the caller applies those
with dataclasses.replace). This module must not import the web, storage or scheduler layers.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "NOVARO_LITE_"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class ConfigError(Exception):
    """A configuration key is unknown or has a bad value; the message names the key."""


def _setting(default: Any, help: str) -> Any:
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str = _setting("127.0.0.1", "Address the HTTP server binds to.")
    port: int = _setting(8080, "TCP port the HTTP server listens on; 0 picks a free port.")
    data_dir: Path = _setting(Path("data"), "Directory that holds the SQLite database file (novaro.db).")
    max_body_bytes: int = _setting(1_048_576, "Largest request body accepted, in bytes; larger bodies get 413.")
    log_level: str = _setting("info", "Log level: critical, error, warning, info or debug.")

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port: {self.port} is not a TCP port (0-65535)")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes: {self.max_body_bytes} is too small (at least 1024)")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"log_level: {self.log_level!r} is not one of {', '.join(LOG_LEVELS)}")
        if not self.host:
            raise ConfigError("host: must not be empty")

    @property
    def database_path(self) -> Path:
        return self.data_dir / "novaro.db"


def setting_fields() -> tuple[dataclasses.Field[Any], ...]:
    """Return the settings in declaration order (drives the docs and config.example.toml)."""
    return dataclasses.fields(Settings)


def _convert(name: str, kind: str, value: Any, source: str) -> Any:
    """Coerce one raw value to the field's type, naming the key and where it came from on failure."""
    problem = f"{name} (from {source}): {value!r} is not a valid"
    if kind == "int":
        if isinstance(value, bool):
            raise ConfigError(f"{problem} integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{problem} integer") from None
    if kind == "Path":
        if not isinstance(value, str | Path) or not str(value):
            raise ConfigError(f"{problem} path")
        return Path(value)
    if not isinstance(value, str):
        raise ConfigError(f"{problem} string")
    return value


def _apply(values: dict[str, Any], raw: Mapping[str, Any], source: str) -> None:
    kinds = {f.name: str(f.type) for f in setting_fields()}
    for key, value in raw.items():
        if key not in kinds:
            raise ConfigError(f"{key} (from {source}): unknown setting; known settings: {', '.join(kinds)}")
        values[key] = _convert(key, kinds[key], value, source)


def load_settings(path: Path | None, environ: Mapping[str, str], **overrides: Any) -> Settings:
    """Build Settings from defaults, an optional TOML file, the environment and explicit overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        _apply(values, raw, str(path))
    env = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key != f"{ENV_PREFIX}CONFIG"
    }
    _apply(values, env, "environment")
    _apply(values, {k: v for k, v in overrides.items() if v is not None}, "command line")
    return Settings(**values)
