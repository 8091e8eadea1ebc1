"""What every command shares: --config/--data-dir, running async storage work, printing tables."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import pydantic

from novaro_lite.api.web.deps import field_errors
from novaro_lite.cli.terminal import CliError, escape_controls, say
from novaro_lite.config.settings import ConfigError, Settings, load_settings
from novaro_lite.domain.text import fault_in
from novaro_lite.errors import AppError
from novaro_lite.storage.store import Storage

T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)
DEFAULT_ACCOUNT = "default"


def load_cli_settings(config: Path | None, **overrides: Any) -> Settings:
    if config is None and os.environ.get("NOVARO_LITE_CONFIG"):
        config = Path(os.environ["NOVARO_LITE_CONFIG"])
    try:
        return load_settings(config, os.environ, **overrides)
    except ConfigError as exc:
        raise CliError(f"Bad configuration: {exc}") from None


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --config and --data-dir, and pass the loaded Settings to the command as `settings`."""

    @click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML config file (default: $NOVARO_LITE_CONFIG).",
    )
    @click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Directory of novaro.db.")
    @functools.wraps(command)
    def wrapper(config: Path | None, data_dir: Path | None, **kwargs: Any) -> Any:
        overrides = {key: kwargs.pop(key) for key in ("host", "port", "workers") if key in kwargs}
        return command(load_cli_settings(config, data_dir=data_dir, **overrides), **kwargs)

    return wrapper


def validated(model: type[M], body: dict[str, Any], what: str) -> M:
    """`body` read as the API reads that JSON body, the text rule first; its first fault as a CliError
    (`Invalid agent: name: …`)."""
    if (fault := fault_in(body, [])) is not None:  # NUL and lone surrogates: refused on both engines alike
        place, message = fault
        raise CliError(f"Invalid {what}: {'.'.join(str(part) for part in place)}: {message}")
    try:
        return model.model_validate_json(json.dumps(body))
    except pydantic.ValidationError as exc:
        first = field_errors(exc, "body", body)[0]  # placed as the API places it (no union member's name)
        where = ".".join(str(part) for part in first["loc"][1:])
        raise CliError(f"Invalid {what}: {where}: {first['msg']}") from None


def read_text(path: Path | None, what: str) -> str:
    """The UTF-8 text of the file at `path` (standard input when None); one that cannot be read, or is not UTF-8,
    is a CliError naming `what`."""
    try:
        return path.read_text(encoding="utf-8") if path else sys.stdin.read()
    except UnicodeDecodeError as exc:
        raise CliError(f"{what} is not UTF-8 text (byte {exc.start} cannot be read).") from None
    except OSError as exc:
        raise CliError(f"{what} cannot be read: {exc.strerror}.") from None


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path`; a place it cannot go (no such directory, no permission) is a CliError."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CliError(f"Cannot write {path}: {exc.strerror}.") from None


def run_with_storage(settings: Settings, use: Callable[[Storage], Awaitable[T]]) -> T:
    async def run() -> T:
        async with Storage.open(settings.database, time.time, pool_size=2) as storage:
            return await use(storage)

    try:
        return asyncio.run(run())
    except AppError as exc:
        raise CliError(exc.detail) from None


def when(timestamp: int | None) -> str:
    """A unix time as UTC date and time; one no calendar can show (stored by an older version) as its number."""
    if timestamp is None:
        return "-"
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"@{timestamp}"


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print rows under headers in aligned columns, each cell's control characters escaped (terminal.py)."""
    cells = [[escape_controls(str(cell)) for cell in row] for row in (headers, *rows)]
    widths = [max(len(cell) for cell in column) for column in zip(*cells, strict=True)]
    for row in cells:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
