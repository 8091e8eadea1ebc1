"""Dependencies point one way: each package has a rank, and a module imports only from packages ranked below its
own (or from its own package); no import cycle between modules; I/O libraries stay with their owners."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "novaro_lite"
# Inward first. A root module is its own unit (`__init__` is the version, shared by all).
RANKS = {
    "__init__": 0,
    "domain": 0,  # the rules: stdlib only
    "errors": 1,  # the error vocabulary every layer raises
    "config": 2,
    "observability": 2,
    "benchmark": 2,  # the load generator and loopback peers of `bench` and bench/: stdlib only
    "storage": 3,  # adapters: the database ...
    "outbound": 3,  # ... every HTTP request the server makes ...
    "workers": 3,  # ... what worker processes share
    "providers": 4,  # the models, over outbound's client
    "services": 5,  # the bag the lifespan builds from the adapters
    "generation": 6,  # the use case both faces share
    "delivery": 7,  # the async face: scheduler, claim loop, one attempt
    "api": 8,  # the HTTP face
    "app": 9,  # the wiring
    "cli": 10,  # the front door
    "__main__": 11,
}
FRAMEWORKS = {"starlette", "httpx", "aiosqlite", "apscheduler", "click", "uvicorn", "aiohttp", "asyncpg", "pydantic"}
# Each library's owners, as paths inside the package: a module, or a package (every module under it).
OWNERS = {
    "aiosqlite": {"storage/sqlite"},
    "sqlite3": {"storage/sqlite"},
    "asyncpg": {"storage/postgres"},
    "apscheduler": {"delivery/scheduler.py"},
    "aiohttp": {"outbound/client.py", "outbound/upstream.py"},
    "click": {"cli"},
    "uvicorn": {"cli", "app.py"},
}
ENGINES = ("novaro_lite.storage.sqlite", "novaro_lite.storage.postgres")


def _files() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50, f"found only {len(files)} modules under {PACKAGE}"
    return files


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[str]:
    """The full names of what `path` imports at any depth (`from a import b` yields `a.b`, which may be a name)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _unit(module: str) -> str:
    """The rank key of a novaro_lite module: its top-level package or root module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_package_and_root_module_has_a_rank():
    units = {_unit(_module(path)) for path in _files()}
    assert units == set(RANKS), f"unranked: {units - set(RANKS)}; gone: {set(RANKS) - units}"


def test_imports_point_down_the_ranks():
    checked = 0
    for path in _files():
        here = _unit(_module(path))
        for name in _imported(path):
            if name.split(".")[0] == "novaro_lite" and name != "novaro_lite.__version__":
                there = _unit(name)
                checked += 1
                assert there == here or RANKS[there] < RANKS[here], (
                    f"{path.relative_to(PACKAGE)} ({here}, rank {RANKS[here]}) imports {name} ({there}, rank "
                    f"{RANKS[there]})"
                )
    assert checked > 300, f"checked only {checked} imports"


def test_no_import_cycle_between_modules():
    files = {_module(path): path for path in _files()}
    graph = {module: {name for name in _imported(path) if name in files} - {module} for module, path in files.items()}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, f"import cycle: {' -> '.join((*trail[trail.index(module) :], module))}"
        if module not in done:
            for name in sorted(graph[module]):
                visit(name, (*trail, module))
            done.add(module)

    for module in sorted(graph):
        visit(module, ())
    assert len(done) == len(files)


def test_wire_models_import_no_handler():
    schemas = list((PACKAGE / "api" / "schemas").glob("*.py"))
    assert schemas, "api/schemas/ holds no module"
    for path in schemas:
        for name in _imported(path):
            if name.startswith("novaro_lite.api."):
                assert name.startswith("novaro_lite.api.schemas"), f"{path.name} imports {name}"


def test_domain_imports_no_framework_or_io_library():
    domain = list((PACKAGE / "domain").glob("*.py"))
    assert len(domain) > 10, "domain/ holds too few modules"
    for path in domain:
        libraries = {name.split(".")[0] for name in _imported(path)}
        assert not libraries & FRAMEWORKS, f"{path.name} imports {libraries & FRAMEWORKS}"


def test_io_libraries_stay_with_their_owners():
    seen = set()
    for path in _files():
        inside = path.relative_to(PACKAGE).as_posix()
        libraries = {name.split(".")[0] for name in _imported(path)}
        for library in libraries & set(OWNERS):
            seen.add(library)
            assert any(inside == owner or inside.startswith(f"{owner}/") for owner in OWNERS[library]), (
                f"{inside} imports {library}"
            )
    assert seen == set(OWNERS), f"no module imports {set(OWNERS) - seen}: the owners table is stale"


def test_nothing_outside_storage_knows_which_engine_runs():
    outside = [path for path in _files() if path.relative_to(PACKAGE).parts[0] != "storage"]
    assert len(outside) > 50
    for path in outside:
        engines = {name for name in _imported(path) if name.startswith(ENGINES)}
        assert not engines, f"{path.relative_to(PACKAGE)} imports {engines}"
