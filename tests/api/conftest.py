"""Fixtures of the API tests: every test runs on both engines; a fake OpenAI-compatible upstream, one per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from novaro_lite.config.settings import SchedulerSettings, Settings
from tests.fakes.llm import Recorder, openai_app
from tests.fakes.serve import serve_in_thread


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, Recorder]]:
    """A fake OpenAI-compatible server: its base URL and what it recorded."""
    recorder = Recorder()
    with serve_in_thread(openai_app(recorder)) as url:
        yield url, recorder


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, scheduler=SchedulerSettings(enabled=False))
