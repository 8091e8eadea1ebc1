"""Settings survive the trip to a worker process value for value, secrets included."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from novaro_lite.config.codec import settings_from_json, settings_to_json
from novaro_lite.config.settings import Settings, load_settings

TOML = """
host = "0.0.0.0"
workers = 3
log_format = "json"
erase_seconds = 2
[defaults]
provider = "local"
[providers.local]
kind = "openai"
base_url = "http://127.0.0.1:11434/v1/"
api_key_env = "LOCAL_KEY"
model = "llama"
timeout_seconds = 20
[webhooks]
allowed_cidrs = ["10.0.0.0/8"]
https_only = true
[delivery]
retry_schedule = [1, 2, 3]
time_scale = 60
[scheduler]
enabled = false
[metrics]
enabled = true
token_env = "SCRAPE"
[limits]
rate_limit_per_minute = 600
"""


def test_every_setting_survives_the_trip_to_a_worker(tmp_path: Path):
    config = tmp_path / "novaro.toml"
    config.write_text(TOML)
    environ = {"LOCAL_KEY": "sk-local", "SCRAPE": "s" * 20, "HTTPS_PROXY": "http://proxy:3128"}
    settings = load_settings(config, environ, port=0, data_dir=tmp_path / "data")
    carried = settings_from_json(settings_to_json(settings))

    assert settings_to_json(carried) == settings_to_json(settings)
    assert carried.providers["local"].api_key is not None and str(carried.providers["local"].api_key) == "sk-local"
    assert carried.metrics.token is not None and str(carried.metrics.token) == "s" * 20
    secrets = {("providers", "local", "api_key"), ("metrics", "token")}
    assert "sk-local" not in repr(carried)  # still a Secret, masked
    for field in dataclasses.fields(Settings):
        mine, theirs = getattr(settings, field.name), getattr(carried, field.name)
        if field.name not in {name for name, *_ in secrets}:
            assert mine == theirs, field.name
            assert type(mine) is type(theirs), field.name
    assert carried.data_dir == tmp_path / "data" and carried.port == 0 and carried.workers == 3
    assert carried.delivery.retry_schedule == (1, 2, 3) and carried.delivery.time_scale == 60.0


def test_a_type_the_codec_does_not_know_fails_loudly():
    @dataclasses.dataclass(frozen=True)
    class Odd:
        value: object = dataclasses.field(default_factory=object)

    with pytest.raises(TypeError, match="cannot carry a object"):
        settings_to_json(Odd())  # type: ignore[arg-type]
