"""The store contract tests run on both engines: `target` is the SQLite file's path or a PostgreSQL URL."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def target(tmp_path: Path, database_url: str) -> Path | str:
    return database_url or tmp_path / "novaro.db"
