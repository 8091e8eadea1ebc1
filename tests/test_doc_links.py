"""The README and docs/ link only to what exists: files of the repository and headings of its pages."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchor for each heading: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", page.read_text(), flags=re.S), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_relative_link_reaches_a_file_and_heading():
    broken = []
    for page in PAGES:
        for target in LINK.findall(re.sub(r"```.*?```", "", page.read_text(), flags=re.S)):
            if re.match(r"[a-z]+:", target):
                continue  # http(s) and mailto links leave the repository
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.is_relative_to(ROOT) or not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def test_no_file_points_outside_the_repository():
    pointing = [
        str(path.relative_to(ROOT))
        for folder in ("novaro_lite", "tests", "scripts", "bench", "docs")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".md", ".toml", ".js", ".service", ""}
        and "vendor" not in path.parts
        and path != Path(__file__)
        and re.search(r"\.\./shared|\b(DESIGN|STYLE)\.md", path.read_text(errors="replace"))
    ]
    pointing += [
        name
        for name in ("README.md", "Makefile", "pyproject.toml", "config.example.toml")
        if re.search(r"\.\./shared|\b(DESIGN|STYLE)\.md", (ROOT / name).read_text())
    ]
    assert not pointing, pointing
