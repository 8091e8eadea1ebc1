"""What the parent of `serve --workers N` hands its workers, and the app a worker builds from it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
from prometheus_client import values

from novaro_lite.app import create_app_from_environment
from novaro_lite.cli.common import run_with_storage
from novaro_lite.config.codec import settings_to_json
from novaro_lite.config.settings import Settings
from novaro_lite.services import Services
from novaro_lite.workers.handoff import PROMETHEUS_ENV, SETTINGS_ENV, SHARED_DIR_ENV, handed_to_workers, worker_setup
from novaro_lite.workers.rate_limits import SharedRateLimiter


def test_the_parent_hands_over_settings_and_a_private_directory_and_takes_both_back(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, workers=2)
    environ = {PROMETHEUS_ENV: "/elsewhere", "OTHER": "kept"}
    with handed_to_workers(settings, environ) as share:
        assert environ[SETTINGS_ENV] == settings_to_json(settings)
        assert share.directory.is_dir() and share.directory.stat().st_mode & 0o777 == 0o700
        assert environ[PROMETHEUS_ENV] == str(share.metrics_dir) and share.metrics_dir.is_dir()
        assert share.rate_limits_path.stat().st_size > 0
        setup = worker_setup(environ)
        assert setup.share == share and settings_to_json(setup.settings) == settings_to_json(settings)
    assert not share.directory.exists()
    assert environ == {PROMETHEUS_ENV: "/elsewhere", "OTHER": "kept"}


def test_a_process_not_started_as_a_worker_is_told_what_to_run(tmp_path: Path):
    with pytest.raises(RuntimeError, match="serve --workers N"):
        worker_setup({})
    with handed_to_workers(Settings(data_dir=tmp_path), {}) as share:
        environ = {SETTINGS_ENV: "{}", SHARED_DIR_ENV: str(share.directory)}
        with pytest.raises(RuntimeError, match=PROMETHEUS_ENV):
            worker_setup(environ)


def test_a_worker_builds_the_whole_app_from_its_environment(tmp_path: Path, monkeypatch):
    settings = Settings(data_dir=tmp_path / "data", workers=2)
    _, token = run_with_storage(settings, lambda storage: storage.tokens.create("t", "default", None, 5))
    with handed_to_workers(settings, os.environ) as share:
        # As in a spawned worker, where prometheus_client is first imported with the variable set.
        monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue())  # type: ignore[no-untyped-call]
        monkeypatch.setattr("novaro_lite.app.configure_logging", lambda level, form: None)
        followed: list[int | None] = []  # in a real worker: stop with the parent, ignore SIGHUP (e2e tests)
        monkeypatch.setattr("novaro_lite.app.follow_parent", followed.append)
        app = create_app_from_environment()
        assert followed == [os.getpid()]

        async def run() -> None:
            async with app.router.lifespan_context(app):
                services: Services = app.state.services
                assert settings_to_json(services.settings) == settings_to_json(settings)
                assert isinstance(services.limiter, SharedRateLimiter)
                assert services.metrics.multiprocess_dir == share.metrics_dir
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
                    verified = await client.get("/api/v1/auth/verify", headers={"Authorization": f"Bearer {token}"})
                    assert verified.status_code == 200 and verified.headers["RateLimit"].startswith('"token";r=4;')

        asyncio.run(run())
