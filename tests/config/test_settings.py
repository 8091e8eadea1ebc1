from __future__ import annotations

import re
from pathlib import Path

import pytest

from novaro_lite.config.settings import ConfigError, documented_settings, load_settings, toml_literal


def test_settings_defaults_bind_loopback_port_8080_and_data_dir():
    settings = load_settings(None, {})
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.database_path == Path("data/novaro.db")


def test_settings_precedence_is_defaults_then_toml_then_env_then_flags(tmp_path: Path):
    config = tmp_path / "novaro.toml"
    config.write_text('host = "0.0.0.0"\nport = 9000\nlog_level = "debug"\nmax_body_bytes = 4096\n')
    assert load_settings(config, {}).port == 9000
    env = {"NOVARO_LITE_PORT": "9100", "NOVARO_LITE_LOG_LEVEL": "warning", "OTHER": "x"}
    from_env = load_settings(config, env)
    assert (from_env.host, from_env.port, from_env.log_level, from_env.max_body_bytes) == (
        "0.0.0.0",
        9100,
        "warning",
        4096,
    )
    assert load_settings(config, env, port=9200, host=None).port == 9200


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        ("colour = 'blue'\n", {}, "colour"),
        ("port = 'eighty'\n", {}, "port"),
        ("port = 70000\n", {}, "port"),
        ("log_level = 'loud'\n", {}, "log_level"),
        ("log_format = 'xml'\n", {}, "log_format"),
        ("[metrics]\nenabled = true\n", {}, "metrics.token_env"),
        ("[metrics]\nenabled = true\ntoken_env = 'T'\n", {"T": "short"}, "metrics.token_env: .* T must hold"),
        ("[limits]\nrate_limit_per_minute = -1\n", {}, "limits.rate_limit_per_minute"),
        ("data_dir = 5\n", {}, "data_dir"),
        ("host = 1\n", {}, "host"),
        ("", {"NOVARO_LITE_PORT": "x"}, "port"),
        ("", {"NOVARO_LITE_BOGUS": "1"}, "bogus"),
        ("port = [\n", {}, "not valid TOML"),
        ("workers = 0\n", {}, "workers: 0 is not between 1 and 64"),
        ("", {"NOVARO_LITE_WORKERS": "65"}, "workers: 65 is not between 1 and 64"),
        ("workers = 'two'\n", {}, "workers"),
    ],
)
def test_settings_bad_key_or_value_names_the_key(tmp_path: Path, toml, env, named):
    config = tmp_path / "novaro.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=named):
        load_settings(config, env)


def test_workers_come_from_toml_env_or_flag_and_default_to_one(tmp_path: Path):
    config = tmp_path / "novaro.toml"
    config.write_text("workers = 2\n")
    assert load_settings(None, {}).workers == 1
    assert load_settings(config, {}).workers == 2
    assert load_settings(config, {"NOVARO_LITE_WORKERS": "3"}).workers == 3
    assert load_settings(config, {"NOVARO_LITE_WORKERS": "3"}, workers=4).workers == 4


def test_settings_missing_file_is_an_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.toml", {})


def test_example_config_documents_every_setting_with_its_default():
    text = Path(__file__).resolve().parents[2].joinpath("config.example.toml").read_text()
    for key, field in documented_settings():
        expected = f"{key.rpartition('.')[2]} = {toml_literal(field.default)}"
        assert re.search(rf"^# {re.escape(expected)}(\s|$)", text, re.M), f"config.example.toml lacks '# {expected}'"


def write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "novaro.toml"
    config.write_text(text)
    return config


def test_providers_come_from_toml_with_keys_from_the_named_environment_variable(tmp_path: Path):
    config = write(
        tmp_path,
        '[defaults]\nprovider = "local"\n[providers.local]\nbase_url = "http://127.0.0.1:11434/v1/"\nmodel = "llama"\n'
        '[providers.claude]\nkind = "anthropic"\napi_key_env = "CLAUDE_KEY"\ntimeout_seconds = 5\n',
    )
    settings = load_settings(config, {"CLAUDE_KEY": "sk-secret"})
    assert settings.defaults.provider == "local"
    assert set(settings.providers) == {"demo", "local", "claude"}
    assert settings.providers["local"].base_url == "http://127.0.0.1:11434/v1"
    claude = settings.providers["claude"]
    assert claude.base_url == "https://api.anthropic.com" and claude.timeout_seconds == 5.0
    assert str(claude.api_key) == "sk-secret"
    assert "sk-secret" not in repr(settings)


def test_default_provider_can_come_from_the_environment(tmp_path: Path):
    config = write(tmp_path, "[providers.local]\nmodel = 'x'\n")
    assert load_settings(config, {"NOVARO_LITE_DEFAULTS_PROVIDER": "local"}).defaults.provider == "local"


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        ("[providers.x]\napi_key = 'sk-1'\n", {}, "providers.x.api_key"),
        ("[providers.x]\napi_key_env = 'MISSING_KEY'\n", {}, "MISSING_KEY is not set"),
        ("[providers.x]\nkind = 'magic'\n", {}, "providers.x.kind"),
        ("[providers.x]\nbase_url = 'ftp://x'\n", {}, "providers.x.base_url"),
        ("[providers.x]\nbase_url = 'http://llm:99999/v1'\n", {}, "providers.x.base_url"),  # port out of range
        ("[providers.x]\nbase_url = 'http://[bad/v1'\n", {}, "providers.x.base_url"),
        ("[providers.x]\nbase_url = 'http:///v1'\n", {}, "providers.x.base_url"),  # no host
        ("[providers.x]\ntimeout_seconds = 0\n", {}, "providers.x.timeout_seconds"),
        ("[providers.x]\ntimeout_seconds = 'slow'\n", {}, "providers.x.timeout_seconds"),
        ("[providers.x]\nmax_retries = 11\n", {}, "providers.x.max_retries"),
        ("[providers.x]\nmax_tokens = 0\n", {}, "providers.x.max_tokens"),
        ("providers = 3\n", {}, "providers"),
        ("[providers]\nx = 3\n", {}, "providers.x"),
        ("defaults = 3\n", {}, "defaults"),
        ("[defaults]\nprovider = 'nowhere'\n", {}, "defaults.provider"),
        ("[defaults]\nprovider = 'x'\n[providers.x]\nkind = 'openai'\n", {}, "providers.x.model"),
        ("", {"NOVARO_LITE_DEFAULTS_COLOUR": "red"}, "defaults.colour"),
        ("host = ''\n", {}, "host"),
        ("sqlite_synchronous = 'off'\n", {}, "sqlite_synchronous"),
        ("[delivery]\nlease_seconds = 10\n", {}, "delivery.lease_seconds"),
        ("[delivery]\nretry_schedule = []\n", {}, "delivery.retry_schedule"),
        ("[delivery]\ntime_scale = 0\n", {}, "delivery.time_scale"),
        ("[delivery]\ntime_scale = nan\n", {}, "delivery.time_scale"),  # TOML has nan and inf
        ("", {"NOVARO_LITE_DELIVERY_TIME_SCALE": "inf"}, "delivery.time_scale"),
        ("", {"NOVARO_LITE_DELIVERY_SWEEP_SECONDS": "nan"}, "delivery.sweep_seconds"),
        ("port = inf\n", {}, "port"),
        ("port = 8080.9\n", {}, "port"),
        ("[delivery]\nretry_schedule = [inf]\n", {}, "delivery.retry_schedule"),
        ("[providers.x]\ntimeout_seconds = nan\n", {}, "providers.x.timeout_seconds"),
        ("[delivery]\nretry_jitter = 1.5\n", {}, "delivery.retry_jitter"),
        ("[delivery]\nmax_in_flight = 0\n", {}, "delivery.max_in_flight"),
        ("[delivery]\nsweep_seconds = 0\n", {}, "delivery.sweep_seconds"),
        ("[delivery]\nretry_schedule = 'soon'\n", {}, "delivery.retry_schedule"),
        ("[webhooks]\nallowed_cidrs = ['nope']\n", {}, "webhooks.allowed_cidrs"),
        ("[webhooks]\ntimeout_seconds = 0\n", {}, "webhooks.timeout_seconds"),
        ("[webhooks]\nhttps_only = 'maybe'\n", {}, "webhooks.https_only"),
        ("max_body_bytes = 10\n", {}, "max_body_bytes"),
    ],
)
def test_bad_provider_settings_name_the_key(tmp_path: Path, toml, env, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_settings(write(tmp_path, toml), env)


def test_metrics_token_is_read_from_the_named_variable_and_kept_secret(tmp_path: Path):
    config = tmp_path / "novaro.toml"
    config.write_text("[metrics]\nenabled = true\ntoken_env = 'SCRAPE_TOKEN'\n")
    settings = load_settings(config, {"SCRAPE_TOKEN": "s3cret-scrape-token-value"})
    assert settings.metrics.token is not None and str(settings.metrics.token) == "s3cret-scrape-token-value"
    assert "s3cret" not in repr(settings)


def test_providers_take_their_proxies_from_the_environment():
    environ = {"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "localhost", "NO_PROXY": "ignored", "HTTP_PROXY": ""}
    assert dict(load_settings(None, environ).provider_proxies) == {"https": "http://proxy:3128", "no": "localhost"}
    assert dict(load_settings(None, {}).provider_proxies) == {}


def test_the_lease_must_outlast_the_slowest_provider_call(tmp_path):
    config = tmp_path / "novaro.toml"
    config.write_text('[providers.slow]\nkind = "openai"\nmodel = "m"\ntimeout_seconds = 400\n')
    with pytest.raises(ConfigError, match=r"lease_seconds: must be longer than .*timeout_seconds \(400\)"):
        load_settings(config, {})
    assert load_settings(config, {"NOVARO_LITE_DELIVERY_LEASE_SECONDS": "401"}).delivery.lease_seconds == 401
