"""Settings for operating the server: the [metrics] and [limits] sections (split from config.py by concern).

Like config.py, this module must not import the web, storage or scheduler layers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Secret


class SettingsError(Exception):
    """A bad value in one of these sections; config.py turns it into a ConfigError naming the key."""


def _setting(default: Any, help: str) -> Any:
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = _setting(False, "Serve Prometheus metrics at /metrics (needs token_env).")
    token_env: str = _setting("", "Name of the environment variable holding the bearer token /metrics requires.")
    token: Secret | None = dataclasses.field(default=None, metadata={"internal": True})

    def resolve(self, environ: Mapping[str, str]) -> MetricsSettings:
        """Read the scrape token from the variable named in token_env; raise SettingsError if it cannot."""
        if not self.enabled:
            return self
        if not self.token_env:
            raise SettingsError("metrics.token_env: /metrics needs a token; name the variable that holds it")
        value = environ.get(self.token_env, "")
        if len(value) < 16:
            raise SettingsError(
                f"metrics.token_env: the environment variable {self.token_env} must hold a token of 16 or more"
                " characters"
            )
        return dataclasses.replace(self, token=Secret(value))


@dataclasses.dataclass(frozen=True)
class LimitsSettings:
    rate_limit_per_minute: int = _setting(
        0, "Requests a minute one token may make unless it has its own limit; 0 means no limit."
    )

    def __post_init__(self) -> None:
        if not 0 <= self.rate_limit_per_minute <= 1_000_000:
            raise SettingsError("limits.rate_limit_per_minute: must be between 0 (no limit) and 1000000")
