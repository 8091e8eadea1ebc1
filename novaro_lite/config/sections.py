"""The sections of the settings: one frozen dataclass per TOML table ([providers.NAME], [defaults],
[webhooks], [delivery], [scheduler], [metrics], [limits], [check_ins]), each checking its own values.

settings.py assembles them into Settings and loads them. Like it, this module must not import the web,
storage or scheduler layers.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import yarl
from starlette.datastructures import Secret

from novaro_lite.domain.agents import CLOCK_PATTERN
from novaro_lite.domain.check_ins import Rules
from novaro_lite.domain.webhooks import TargetPolicy

PROVIDER_KINDS = ("openai", "anthropic", "demo")
DEFAULT_BASE_URLS = MappingProxyType(
    {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com", "demo": ""}
)
DEMO = "demo"


class ConfigError(Exception):
    """A configuration key is unknown or has a bad value; the message names the key."""


def setting(default: Any, help: str) -> Any:
    """A settings field: its default and the help string that --help, the README and the example TOML show."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class ProviderSettings:
    """One `[providers.NAME]` table: an upstream LLM API."""

    kind: str = setting("openai", "openai (any OpenAI-compatible API), anthropic or demo.")
    base_url: str = setting("", "API root, e.g. http://127.0.0.1:11434/v1 for Ollama; empty: the kind's public API.")
    api_key_env: str = setting("", "Name of the environment variable that holds the API key (never the key).")
    model: str = setting("", "Model id for agents that name only this provider, or none.")
    timeout_seconds: float = setting(
        60.0, "Most seconds one call to the upstream may take, retries and reading included; then a 504."
    )
    max_retries: int = setting(2, "Retries of an upstream 429 or 5xx, with backoff that honours Retry-After.")
    max_tokens: int = setting(1024, "Most tokens in one reply; sent to Anthropic, which requires a limit.")
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
        if self.kind != DEMO and not _is_http_url(base_url):
            raise ConfigError(
                f"{where}.base_url: {self.base_url!r} is not an http(s) URL with a host (and a valid port)"
            )
        return dataclasses.replace(self, base_url=base_url)


def _is_http_url(url: str) -> bool:
    """Whether `url` is one the providers' client can call: http(s), a host, a port in range (parsed as it will
    be, by yarl)."""
    try:
        parsed = yarl.URL(url)
        return parsed.scheme in ("http", "https") and bool(parsed.host) and parsed.port is not None
    except ValueError:
        return False


@dataclasses.dataclass(frozen=True)
class DefaultsSettings:
    provider: str = setting(DEMO, "Provider for agents whose model names none; 'demo' answers offline.")


@dataclasses.dataclass(frozen=True)
class WebhookSettings:
    allow_private_networks: bool = setting(
        False, "Allow webhook URLs that resolve to private, loopback or link-local addresses."
    )
    allowed_cidrs: tuple[str, ...] = setting((), 'Address ranges allowed even when private, e.g. ["10.0.0.0/8"].')
    https_only: bool = setting(False, "Refuse webhook URLs that are not https.")
    timeout_seconds: float = setting(15.0, "Seconds a receiver has to answer one delivery.")
    disable_after_hours: int = setting(
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
    time_scale: float = setting(
        1.0, "Divide every reply delay and retry wait by this (60 turns 5 minutes into 5 s); for demos and tests."
    )
    allow_delay_override: bool = setting(True, "Let a request ask for delay 'immediate' or {seconds: N}.")
    retry_schedule: tuple[int, ...] = setting(
        (5, 300, 1800, 7200, 18000, 36000, 36000), "Seconds before each retry of a failed delivery; then failed."
    )
    retry_jitter: float = setting(0.2, "Random spread of each retry wait, as a fraction (0.2 = plus or minus 20%).")
    max_in_flight: int = setting(64, "Most deliveries (generation included) in progress at once.")
    max_in_flight_per_webhook: int = setting(8, "Most deliveries in progress to one webhook at once.")
    lease_seconds: int = setting(
        300,
        "A claimed request returns to the queue if not finished within this; must exceed every provider's"
        " timeout_seconds and webhooks.timeout_seconds.",
    )
    retention_days: int = setting(7, "Days the metadata of a finished request is kept (its content is not).")
    paused_max_days: int = setting(
        30, "Days a disabled webhook's requests wait, paused with their content, before they fail and are erased."
    )
    shutdown_grace_seconds: float = setting(10.0, "On shutdown, how long in-flight deliveries may finish.")
    sweep_seconds: float = setting(30.0, "Interval of the safety sweep for due requests and expired leases.")

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
    enabled: bool = setting(True, "Run the scheduler that delivers async replies; in-process tests turn it off.")


@dataclasses.dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = setting(False, "Serve Prometheus metrics at /metrics (needs token_env).")
    token_env: str = setting("", "Name of the environment variable holding the bearer token /metrics requires.")
    token: Secret | None = dataclasses.field(default=None, metadata={"internal": True})

    def resolve(self, environ: Mapping[str, str]) -> MetricsSettings:
        """Read the scrape token from the variable named in token_env; raise ConfigError if it cannot."""
        if not self.enabled:
            return self
        if not self.token_env:
            raise ConfigError("metrics.token_env: /metrics needs a token; name the variable that holds it")
        value = environ.get(self.token_env, "")
        if len(value) < 16:
            raise ConfigError(
                f"metrics.token_env: the environment variable {self.token_env} must hold a token of 16 or more"
                " characters"
            )
        return dataclasses.replace(self, token=Secret(value))


@dataclasses.dataclass(frozen=True)
class LimitsSettings:
    rate_limit_per_minute: int = setting(
        0, "Requests a minute one token may make unless it has its own limit; 0 means no limit."
    )
    tokens_per_account: int = setting(
        100, "Live (not revoked, not expired) tokens an account may hold before the API refuses to mint more."
    )

    def __post_init__(self) -> None:
        if not 0 <= self.rate_limit_per_minute <= 1_000_000:
            raise ConfigError("limits.rate_limit_per_minute: must be between 0 (no limit) and 1000000")
        if not 1 <= self.tokens_per_account <= 1_000_000:
            raise ConfigError("limits.tokens_per_account: must be between 1 and 1000000")


@dataclasses.dataclass(frozen=True)
class CheckInSettings:
    """[check_ins]: the rules that keep check-ins (messages an agent writes first) from becoming spam."""

    max_pending: int = setting(1, "Check-ins waiting at once in one conversation (of one agent).")
    daily_cap: int = setting(3, "Check-ins scheduled or delivered in one conversation in any 24 hours.")
    unanswered_limit: int = setting(
        2, "Check-ins delivered in a row with no message from the user, after which none until they write; 0: off."
    )
    not_while_active: bool = setting(
        True, "Refuse a check-in (and drop a due one) while the agent is online in the conversation or answering it."
    )
    default_quiet_hours: str = setting(
        "22:00-08:00", "The user's quiet hours when a check-in names none (HH:MM-HH:MM)."
    )

    def __post_init__(self) -> None:
        for name in ("max_pending", "daily_cap"):
            if not 1 <= getattr(self, name) <= 1000:
                raise ConfigError(f"check_ins.{name}: must be between 1 and 1000")
        if not 0 <= self.unanswered_limit <= 1000:
            raise ConfigError("check_ins.unanswered_limit: must be between 0 (off) and 1000")
        start, _, end = self.default_quiet_hours.partition("-")
        if not all(re.fullmatch(CLOCK_PATTERN, clock) for clock in (start, end)):
            raise ConfigError(f"check_ins.default_quiet_hours: {self.default_quiet_hours!r} is not HH:MM-HH:MM")

    @property
    def rules(self) -> Rules:
        return Rules(self.max_pending, self.daily_cap, self.unanswered_limit, self.not_while_active)
