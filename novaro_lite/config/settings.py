"""Settings: the frozen top-level dataclass (its sections are in sections.py), each key with a
default and a help string, and load_settings().

Precedence: defaults < TOML file < NOVARO_LITE_* environment < CLI flags. Top-level keys map to
NOVARO_LITE_<KEY>, section keys to NOVARO_LITE_<SECTION>_<KEY> ([defaults] provider ->
NOVARO_LITE_DEFAULTS_PROVIDER). Providers ([providers.NAME] tables) live in the TOML file only; their API
keys never do: `api_key_env` names the environment variable that holds one. This module must not import
the web, storage or scheduler layers.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from starlette.datastructures import Secret

from novaro_lite.config.sections import (
    DEMO,
    CheckInSettings,
    ConfigError as ConfigError,
    DefaultsSettings,
    DeliverySettings as DeliverySettings,
    LimitsSettings,
    MetricsSettings,
    ProviderSettings as ProviderSettings,
    SchedulerSettings as SchedulerSettings,
    WebhookSettings as WebhookSettings,
    setting,
)

ENV_PREFIX = "NOVARO_LITE_"
PLAIN_TYPES = frozenset({"str", "int", "float", "bool", "Path", "tuple[int, ...]", "tuple[str, ...]"})
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("text", "json")
MAX_WORKERS = 64  # more than the cores of any machine this serves from; each worker holds its own connections


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str = setting("127.0.0.1", "Address the HTTP server binds to.")
    port: int = setting(8080, "TCP port the HTTP server listens on; 0 picks a free port.")
    workers: int = setting(
        1,
        f"Server processes sharing the port, each serving HTTP and delivering (1-{MAX_WORKERS}); 1: no extra process.",
    )
    data_dir: Path = setting(Path("data"), "Directory that holds the SQLite database file (novaro.db).")
    database_url: str = setting(
        "", "PostgreSQL URL (postgresql://user:password@host:5432/db) to share one database; empty: SQLite in data_dir."
    )
    database_pool_size: int = setting(10, "PostgreSQL connections each server process keeps open at most (1-100).")
    max_body_bytes: int = setting(1_048_576, "Largest request body accepted, in bytes; larger bodies get 413.")
    avatar_max_bytes: int = setting(
        5_242_880, "Largest agent picture kept (a card's, or one put through the API), in bytes; larger: 413/422."
    )
    log_level: str = setting("info", "Log level: critical, error, warning, info or debug.")
    log_format: str = setting("text", 'Log lines as "text" or "json" (one object a line, with the request id).')
    sqlite_synchronous: str = setting(
        "normal", "SQLite sync: normal survives a process crash; full also a power cut, at some speed."
    )
    erase_seconds: float = setting(
        3.0, "Seconds (at most 5) after a request ends before its purged content is erased from the WAL file too."
    )
    defaults: DefaultsSettings = setting(DefaultsSettings(), "[defaults] section.")
    webhooks: WebhookSettings = setting(WebhookSettings(), "[webhooks] section.")
    delivery: DeliverySettings = setting(DeliverySettings(), "[delivery] section.")
    scheduler: SchedulerSettings = setting(SchedulerSettings(), "[scheduler] section.")
    metrics: MetricsSettings = setting(MetricsSettings(), "[metrics] section.")
    limits: LimitsSettings = setting(LimitsSettings(), "[limits] section.")
    check_ins: CheckInSettings = setting(CheckInSettings(), "[check_ins] section.")
    providers: Mapping[str, ProviderSettings] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}),
        metadata={"help": "[providers.NAME] tables; a built-in 'demo' provider is always there."},
    )
    # From HTTP_PROXY / HTTPS_PROXY / NO_PROXY (load_settings): "http", "https" and "no". Providers' calls
    # only; webhooks never go through a proxy.
    provider_proxies: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}), metadata={"internal": True}
    )

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port: {self.port} is not a TCP port (0-65535)")
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"workers: {self.workers} is not between 1 and {MAX_WORKERS}")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes: {self.max_body_bytes} is too small (at least 1024)")
        if not 1024 <= self.avatar_max_bytes <= 50 * 1_048_576:
            raise ConfigError(f"avatar_max_bytes: {self.avatar_max_bytes} is not between 1024 and 52428800")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"log_level: {self.log_level!r} is not one of {', '.join(LOG_LEVELS)}")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"log_format: {self.log_format!r} is not one of {', '.join(LOG_FORMATS)}")
        if not self.host:
            raise ConfigError("host: must not be empty")
        if self.sqlite_synchronous not in ("normal", "full"):
            raise ConfigError(f"sqlite_synchronous: {self.sqlite_synchronous!r} is not normal or full")
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError("database_url: must start with postgresql:// (or be empty, for SQLite in data_dir)")
        if not 1 <= self.database_pool_size <= 100:
            raise ConfigError(f"database_pool_size: {self.database_pool_size} is not between 1 and 100")
        if not 0 < self.erase_seconds <= 5:
            raise ConfigError("erase_seconds: must be greater than 0 and at most 5 (content leaves every file in 10 s)")
        providers = {DEMO: ProviderSettings(kind=DEMO)} | dict(self.providers)
        checked = MappingProxyType({name: provider.check(name) for name, provider in providers.items()})
        object.__setattr__(self, "providers", checked)
        # A lease covers generating (one provider call, its deadline bounding every retry) and then, renewed
        # once the reply is stored, one webhook POST; it must outlast the longer of the two, or a second
        # process could take a request that is still being worked on.
        slowest = max((p.timeout_seconds for p in checked.values() if p.kind != DEMO), default=0.0)
        if self.delivery.lease_seconds <= max(slowest, self.webhooks.timeout_seconds):
            raise ConfigError(
                f"delivery.lease_seconds: must be longer than the slowest providers.NAME.timeout_seconds ({slowest:g})"
                f" and webhooks.timeout_seconds ({self.webhooks.timeout_seconds:g}), or a request's lease could"
                " run out while it is still being generated or sent"
            )
        if self.defaults.provider not in checked:
            raise ConfigError(
                f"defaults.provider: {self.defaults.provider!r} is not a configured provider;"
                f" configured: {', '.join(checked)}"
            )
        default = self.defaults.provider
        if checked[default].kind != DEMO and not checked[default].model:
            raise ConfigError(f"providers.{default}.model: the default provider needs one, for agents that name none")

    @property
    def database_path(self) -> Path:
        return self.data_dir / "novaro.db"

    @property
    def database(self) -> Path | str:
        """Where the data lives: the PostgreSQL URL if one is set, else the SQLite file."""
        return self.database_url or self.database_path


def setting_fields(cls: type = Settings) -> tuple[dataclasses.Field[Any], ...]:
    """Return the plain settings of `cls` in declaration order (drives the docs and config.example.toml)."""
    return tuple(
        field
        for field in dataclasses.fields(cls)
        if str(field.type) in PLAIN_TYPES and not field.metadata.get("internal")
    )


SECTIONS = MappingProxyType(
    {
        "defaults": DefaultsSettings,
        "webhooks": WebhookSettings,
        "delivery": DeliverySettings,
        "scheduler": SchedulerSettings,
        "metrics": MetricsSettings,
        "limits": LimitsSettings,
        "check_ins": CheckInSettings,
    }
)


def toml_literal(value: Any) -> str:
    """Write a default the way a config file would spell it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | Path):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    return str(value)


def documented_settings() -> list[tuple[str, dataclasses.Field[Any]]]:
    """Every key a config file may hold, dotted (`defaults.provider`, `providers.NAME.kind`), with its field."""
    keys = [(field.name, field) for field in setting_fields()]
    for name, cls in SECTIONS.items():
        keys += [(f"{name}.{field.name}", field) for field in setting_fields(cls)]
    return keys + [(f"providers.NAME.{field.name}", field) for field in setting_fields(ProviderSettings)]


def _convert(name: str, kind: str, value: Any, source: str) -> Any:
    """Coerce one raw value to the field's type, naming the key and where it came from on failure."""
    problem = f"{name} (from {source}): {value!r} is not a valid"
    if kind.startswith("tuple["):
        items = value.split(",") if isinstance(value, str) else value  # the environment gives "a,b,c"
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{problem} list")
        item_kind = kind.removeprefix("tuple[").split(",")[0]
        return tuple(
            _convert(name, item_kind, item.strip() if isinstance(item, str) else item, source) for item in items
        )
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{problem} boolean (true or false)")
    if kind in ("int", "float"):
        if isinstance(value, bool):
            raise ConfigError(f"{problem} {kind}")
        try:
            if kind == "int":
                if isinstance(value, float) and not value.is_integer():  # 8080.9 is no port; nor are nan, inf
                    raise ValueError(value)
                return int(value)
            number = float(value)
            if not math.isfinite(number):  # TOML and float() both take nan and inf
                raise ValueError(value)
            return number
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{problem} {'whole number' if kind == 'int' else 'finite number'}") from None
    if kind == "Path":
        if not isinstance(value, str | Path) or not str(value):
            raise ConfigError(f"{problem} path")
        return Path(value)
    if not isinstance(value, str):
        raise ConfigError(f"{problem} string")
    return value


def _table(cls: type, raw: Mapping[str, Any], source: str, where: str = "") -> dict[str, Any]:
    """Convert one TOML table (or env subset) of plain keys for dataclass `cls`."""
    kinds = {field.name: str(field.type) for field in setting_fields(cls)}
    values = {}
    for key, value in raw.items():
        name = where + key
        if key not in kinds:
            hint = "; API keys belong in the environment, named by api_key_env" if key == "api_key" else ""
            raise ConfigError(f"{name} (from {source}): unknown setting{hint}; known: {', '.join(kinds)}")
        values[key] = _convert(name, kinds[key], value, source)
    return values


def _provider(name: str, raw: Any, source: str, environ: Mapping[str, str]) -> ProviderSettings:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"providers.{name} (from {source}): must be a table")
    provider = ProviderSettings(**_table(ProviderSettings, raw, source, f"providers.{name}."))
    if provider.api_key_env:
        key = environ.get(provider.api_key_env)
        if not key:
            raise ConfigError(
                f"providers.{name}.api_key_env: the environment variable {provider.api_key_env} is not set"
            )
        provider = dataclasses.replace(provider, api_key=Secret(key))
    return provider


def _proxies(environ: Mapping[str, str]) -> Mapping[str, str]:
    """HTTP_PROXY, HTTPS_PROXY and NO_PROXY (the lower-case names win, as curl reads them)."""
    found = {}
    for scheme in ("http", "https", "no"):
        value = environ.get(f"{scheme}_proxy") or environ.get(f"{scheme.upper()}_PROXY")
        if value:
            found[scheme] = value
    return MappingProxyType(found)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text, as TOML must be") from None
    except OSError as exc:  # a directory, no permission
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _env_tables(environ: Mapping[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Split NOVARO_LITE_* variables into top-level keys and section keys."""
    top: dict[str, str] = {}
    sections: dict[str, dict[str, str]] = {name: {} for name in SECTIONS}
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX) or variable == f"{ENV_PREFIX}CONFIG":
            continue
        key = variable[len(ENV_PREFIX) :].lower()
        section = next((name for name in SECTIONS if key.startswith(name + "_")), None)
        if section is None:
            top[key] = value
        else:
            sections[section][key[len(section) + 1 :]] = value
    return top, sections


def load_settings(path: Path | None, environ: Mapping[str, str], **overrides: Any) -> Settings:
    """Build Settings from defaults, an optional TOML file, the environment and explicit overrides."""
    raw = _read_toml(path) if path is not None else {}
    source = str(path)
    providers = raw.pop("providers", {})
    if not isinstance(providers, Mapping):
        raise ConfigError(f"providers (from {source}): must be tables such as [providers.ollama]")
    section_values: dict[str, dict[str, Any]] = {}
    for name, cls in SECTIONS.items():
        table = raw.pop(name, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"{name} (from {source}): must be a table such as [{name}]")
        section_values[name] = _table(cls, table, source, f"{name}.")
    values = _table(Settings, raw, source)
    env_top, env_sections = _env_tables(environ)
    values |= _table(Settings, env_top, "environment")
    for name, cls in SECTIONS.items():
        section_values[name] |= _table(cls, env_sections[name], "environment", f"{name}.")
    values |= _table(Settings, {key: value for key, value in overrides.items() if value is not None}, "command line")
    sections: dict[str, Any] = {name: SECTIONS[name](**table) for name, table in section_values.items()}
    sections["metrics"] = sections["metrics"].resolve(environ)
    return Settings(
        **values,
        **sections,
        providers=MappingProxyType(
            {name: _provider(name, table, source, environ) for name, table in providers.items()}
        ),
        provider_proxies=_proxies(environ),
    )
