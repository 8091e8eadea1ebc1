"""Fixtures of the API tests: a fake OpenAI-compatible upstream on a loopback port, one per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm import Recorder, openai_app
from tests.fakes.serve import serve_in_thread


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, Recorder]]:
    """A fake OpenAI-compatible server: its base URL and what it recorded."""
    recorder = Recorder()
    with serve_in_thread(openai_app(recorder)) as url:
        yield url, recorder
