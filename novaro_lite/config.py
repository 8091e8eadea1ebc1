"""Settings: frozen dataclasses with a default and a help string per key, and load_settings().

Precedence: defaults < TOML file < NOVARO_LITE_* environment < CLI flags. Top-level keys map to
NOVARO_LITE_<KEY>, section keys to NOVARO_LITE_<SECTION>_<KEY> ([defaults] provider ->
NOVARO_LITE_DEFAULTS_PROVIDER). Providers ([providers.NAME] tables) live in the TOML file only; their API
keys never do: `api_key_env` names the environment variable that holds one. This module must not import
the web, storage or scheduler layers.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from starlette.datastructures import Secret

from novaro_lite.domain.webhooks import TargetPolicy
from novaro_lite.ops_settings import LimitsSettings, MetricsSettings, SettingsError

ENV_PREFIX = "NOVARO_LITE_"
PLAIN_TYPES = frozenset({"str", "int", "float", "bool", "Path", "tuple[int, ...]", "tuple[str, ...]"})
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("text", "json")
PROVIDER_KINDS = ("openai", "anthropic", "demo")
DEFAULT_BASE_URLS = MappingProxyType(
    {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com", "demo": ""}
)
DEMO = "demo"


class ConfigError(Exception):
    """A configuration key is unknown or has a bad value; the message names the key."""


def _setting(default: Any, help: str) -> Any:
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class ProviderSettings:
    """One `[providers.NAME]` table: an upstream LLM API."""

    kind: str = _setting("openai", "openai (any OpenAI-compatible API), anthropic or demo.")
    base_url: str = _setting("", "API root, e.g. http://127.0.0.1:11434/v1 for Ollama; empty: the kind's public API.")
    api_key_env: str = _setting("", "Name of the environment variable that holds the API key (never the key).")
    model: str = _setting("", "Model id for agents that name only this provider, or none.")
    timeout_seconds: float = _setting(
        60.0, "Most seconds one call to the upstream may take, retries and reading included; then a 504."
    )
    max_retries: int = _setting(2, "Retries of an upstream 429 or 5xx, with backoff that honours Retry-After.")
    max_tokens: int = _setting(1024, "Most tokens in one reply; sent to Anthropic, which requires a limit.")
    api_key: Secret | None = dataclasses.field(default=None, metadata={"internal": True})

    def check(self, name: str) -> ProviderSettings:
        """Validate this table as providers.NAME and return it with its base URL resolved."""
        where = f"providers.{name}"
        if self.kind not in PROVIDER_KINDS:
            raise ConfigError(f"{where}.kind: {self.kind!r} is not one of {', '.join(PROVIDER_KINDS)}")
        if self.timeout_seconds <= 0:
            raise ConfigError(f"{where}.timeout_seconds: must be greater than 0")
        if not 0 <= self.max_retries <= 10:
            raise ConfigError(f"{where}.max_retries: must be between 0 and 10")
        if self.max_tokens < 1:
            raise ConfigError(f"{where}.max_tokens: must be at least 1")
        base_url = (self.base_url or DEFAULT_BASE_URLS[self.kind]).rstrip("/")
        if self.kind != DEMO and not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.base_url: {self.base_url!r} is not an http(s) URL")
        return dataclasses.replace(self, base_url=base_url)


@dataclasses.dataclass(frozen=True)
class DefaultsSettings:
    provider: str = _setting(DEMO, "Provider for agents whose model names none; 'demo' answers offline.")


@dataclasses.dataclass(frozen=True)
class WebhookSettings:
    allow_private_networks: bool = _setting(
        False, "Allow webhook URLs that resolve to private, loopback or link-local addresses."
    )
    allowed_cidrs: tuple[str, ...] = _setting((), 'Address ranges allowed even when private, e.g. ["10.0.0.0/8"].')
    https_only: bool = _setting(False, "Refuse webhook URLs that are not https.")
    timeout_seconds: float = _setting(15.0, "Seconds a receiver has to answer one delivery.")
    disable_after_hours: int = _setting(
        120, "Disable a webhook whose deliveries have only failed for this many hours, with the reason; 0: never."
    )

    def __post_init__(self) -> None:
        for cidr in self.allowed_cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ConfigError(f"webhooks.allowed_cidrs: {cidr!r} is not an address range") from None
        if self.timeout_seconds <= 0:
            raise ConfigError("webhooks.timeout_seconds: must be greater than 0")
        if not 0 <= self.disable_after_hours <= 24 * 365:
            raise ConfigError("webhooks.disable_after_hours: must be between 0 (never) and 8760 (a year)")

    @property
    def policy(self) -> TargetPolicy:
        return TargetPolicy(self.allow_private_networks, self.allowed_cidrs, self.https_only)


@dataclasses.dataclass(frozen=True)
class DeliverySettings:
    time_scale: float = _setting(
        1.0, "Divide every reply delay and retry wait by this (60 turns 5 minutes into 5 s); for demos and tests."
    )
    allow_delay_override: bool = _setting(True, "Let a request ask for delay 'immediate' or {seconds: N}.")
    retry_schedule: tuple[int, ...] = _setting(
        (5, 300, 1800, 7200, 18000, 36000, 36000), "Seconds before each retry of a failed delivery; then failed."
    )
    retry_jitter: float = _setting(0.2, "Random spread of each retry wait, as a fraction (0.2 = plus or minus 20%).")
    max_in_flight: int = _setting(64, "Most deliveries (generation included) in progress at once.")
    max_in_flight_per_webhook: int = _setting(8, "Most deliveries in progress to one webhook at once.")
    lease_seconds: int = _setting(
        300,
        "A claimed request returns to the queue if not finished within this; must exceed every provider's"
        " timeout_seconds and webhooks.timeout_seconds.",
    )
    retention_days: int = _setting(7, "Days the metadata of a finished request is kept (its content is not).")
    paused_max_days: int = _setting(
        30, "Days a disabled webhook's requests wait, paused with their content, before they fail and are erased."
    )
    shutdown_grace_seconds: float = _setting(10.0, "On shutdown, how long in-flight deliveries may finish.")
    sweep_seconds: float = _setting(30.0, "Interval of the safety sweep for due requests and expired leases.")

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ConfigError("delivery.time_scale: must be greater than 0")
        if not self.retry_schedule or any(wait <= 0 for wait in self.retry_schedule):
            raise ConfigError("delivery.retry_schedule: give one or more positive numbers of seconds")
        if not 0 <= self.retry_jitter < 1:
            raise ConfigError("delivery.retry_jitter: must be at least 0 and below 1")
        for name in (
            "max_in_flight",
            "max_in_flight_per_webhook",
            "lease_seconds",
            "retention_days",
            "paused_max_days",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"delivery.{name}: must be at least 1")
        if self.shutdown_grace_seconds < 0 or self.sweep_seconds <= 0:
            raise ConfigError("delivery.shutdown_grace_seconds and delivery.sweep_seconds: must be positive")


@dataclasses.dataclass(frozen=True)
class SchedulerSettings:
    enabled: bool = _setting(True, "Run the scheduler that delivers async replies; in-process tests turn it off.")


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str = _setting("127.0.0.1", "Address the HTTP server binds to.")
    port: int = _setting(8080, "TCP port the HTTP server listens on; 0 picks a free port.")
    data_dir: Path = _setting(Path("data"), "Directory that holds the SQLite database file (novaro.db).")
    max_body_bytes: int = _setting(1_048_576, "Largest request body accepted, in bytes; larger bodies get 413.")
    log_level: str = _setting("info", "Log level: critical, error, warning, info or debug.")
    log_format: str = _setting("text", 'Log lines as "text" or "json" (one object a line, with the request id).')
    sqlite_synchronous: str = _setting(
        "normal", "SQLite sync: normal survives a process crash; full also a power cut, at some speed."
    )
    erase_seconds: float = _setting(
        3.0, "Seconds (at most 5) after a request ends before its purged content is erased from the WAL file too."
    )
    defaults: DefaultsSettings = _setting(DefaultsSettings(), "[defaults] section.")
    webhooks: WebhookSettings = _setting(WebhookSettings(), "[webhooks] section.")
    delivery: DeliverySettings = _setting(DeliverySettings(), "[delivery] section.")
    scheduler: SchedulerSettings = _setting(SchedulerSettings(), "[scheduler] section.")
    metrics: MetricsSettings = _setting(MetricsSettings(), "[metrics] section.")
    limits: LimitsSettings = _setting(LimitsSettings(), "[limits] section.")
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
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes: {self.max_body_bytes} is too small (at least 1024)")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"log_level: {self.log_level!r} is not one of {', '.join(LOG_LEVELS)}")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"log_format: {self.log_format!r} is not one of {', '.join(LOG_FORMATS)}")
        if not self.host:
            raise ConfigError("host: must not be empty")
        if self.sqlite_synchronous not in ("normal", "full"):
            raise ConfigError(f"sqlite_synchronous: {self.sqlite_synchronous!r} is not normal or full")
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
            return int(value) if kind == "int" else float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{problem} {kind}") from None
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
    try:
        sections: dict[str, Any] = {name: SECTIONS[name](**table) for name, table in section_values.items()}
        sections["metrics"] = sections["metrics"].resolve(environ)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    return Settings(
        **values,
        **sections,
        providers=MappingProxyType(
            {name: _provider(name, table, source, environ) for name, table in providers.items()}
        ),
        provider_proxies=_proxies(environ),
    )
