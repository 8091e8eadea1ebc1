"""No function in the package runs over LIMIT lines: a longer one is split along its seams."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "novaro_lite"
LIMIT = 70


def _lengths(path: Path) -> list[tuple[str, int]]:
    """Each function of the module (methods and nested functions too), with its lines, decorators included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
            found.append((f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}", (node.end_lineno or 0) - start + 1))
    return found


def test_no_function_runs_over_the_limit():
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 50, paths  # the walk found the package
    lengths = [found for path in paths for found in _lengths(path)]
    assert len(lengths) > 500, len(lengths)
    too_long = [f"{name} ({lines} lines)" for name, lines in lengths if lines > LIMIT]
    assert not too_long, too_long
