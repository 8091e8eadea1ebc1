"""Imports point inward: the domain package imports no framework, and only named modules hold I/O libraries."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "novaro_lite"
FRAMEWORKS = {"starlette", "httpx", "aiosqlite", "apscheduler", "click", "uvicorn"}
OWNERS = {"aiosqlite": {"storage"}, "apscheduler": {"scheduler.py"}, "sqlite3": {"storage"}}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_no_framework_or_io_library():
    for path in (PACKAGE / "domain").glob("*.py"):
        assert not _imports(path) & FRAMEWORKS, f"{path.name} imports {_imports(path) & FRAMEWORKS}"


def test_sql_and_scheduler_libraries_stay_in_their_modules():
    for path in PACKAGE.rglob("*.py"):
        for library, owners in OWNERS.items():
            if library in _imports(path):
                assert {path.name, path.parent.name} & owners, f"{path.relative_to(PACKAGE)} imports {library}"
