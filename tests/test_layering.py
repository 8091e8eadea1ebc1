"""Imports point inward: the domain package imports no framework, and only named modules hold I/O libraries."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "novaro_lite"
FRAMEWORKS = {"starlette", "httpx", "aiosqlite", "apscheduler", "click", "uvicorn"}
# Each library's owners, as paths inside the package: a module, or a package (every module under it).
OWNERS = {
    "aiosqlite": {"storage/sqlite"},
    "sqlite3": {"storage/sqlite"},
    "asyncpg": {"storage/postgres"},
    "apscheduler": {"delivery/scheduler.py"},
}
ENGINES = ("novaro_lite.storage.sqlite", "novaro_lite.storage.postgres")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(path: Path) -> set[str]:
    """The full names of the modules `path` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_no_framework_or_io_library():
    for path in (PACKAGE / "domain").glob("*.py"):
        assert not _imports(path) & FRAMEWORKS, f"{path.name} imports {_imports(path) & FRAMEWORKS}"


def test_sql_and_scheduler_libraries_stay_in_their_modules():
    for path in PACKAGE.rglob("*.py"):
        inside = path.relative_to(PACKAGE).as_posix()
        for library, owners in OWNERS.items():
            if library in _imports(path):
                assert any(inside == owner or inside.startswith(f"{owner}/") for owner in owners), (
                    f"{inside} imports {library}"
                )


def test_nothing_outside_storage_knows_which_engine_runs():
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] != "storage":
            engines = {name for name in _modules(path) if name.startswith(ENGINES)}
            assert not engines, f"{path.relative_to(PACKAGE)} imports {engines}"
