"""What `make dist` packs: the wheel and sdist hold every file of the package, and the executable (frozen from
that wheel) holds the whole static tree, the zone database and the compiled extensions the server runs on.
"""

from __future__ import annotations

import platform
import re
import subprocess
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

from novaro_lite import __version__
from tests.dist.bare import EXECUTABLE, EXTENSIONS, MISSING, REPO

PACKAGE = REPO / "novaro_lite"
WHEEL = REPO / "dist" / f"novaro_lite-{__version__}-py3-none-any.whl"
SDIST = REPO / "dist" / f"novaro_lite-{__version__}.tar.gz"
ARCHIVE_VIEWER = REPO / ".venv-dist" / "bin" / "pyi-archive_viewer"


def package_files() -> set[str]:
    """Every file of the package in the source tree, as a path from the repository root."""
    return {
        path.relative_to(REPO).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def built(path: Path) -> Path:
    assert path.is_file(), f"{path.relative_to(REPO)} {MISSING}"
    return path


def test_wheel_holds_every_package_file_and_the_command():
    with zipfile.ZipFile(built(WHEEL)) as wheel:
        names = set(wheel.namelist())
        info = f"novaro_lite-{__version__}.dist-info"
        metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert package_files() <= names, sorted(package_files() - names)
    assert metadata["Name"] == "novaro-lite" and metadata["Version"] == __version__
    assert any(requirement.startswith("tzdata") for requirement in metadata.get_all("Requires-Dist", []))
    assert "novaro-lite = novaro_lite.cli.main:main" in entry_points


def test_sdist_holds_the_package_and_what_builds_it():
    with tarfile.open(built(SDIST)) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert package_files() | {"pyproject.toml", "README.md"} <= names, sorted(package_files() - names)
    assert not any(name.startswith(("dist/", "build/", ".venv")) for name in names)


def test_executable_holds_the_static_tree_zones_and_extensions():
    assert ARCHIVE_VIEWER.is_file(), f"{ARCHIVE_VIEWER.relative_to(REPO)} is missing: `make dist` installs it"
    listing = subprocess.run(
        [str(ARCHIVE_VIEWER), "--list", "--brief", str(built(EXECUTABLE))], capture_output=True, text=True, check=True
    ).stdout
    members = {line.strip() for line in listing.splitlines()}
    static = {name for name in package_files() if name.startswith("novaro_lite/static/")}
    assert static, "no static files found in the source tree"
    assert static <= members, sorted(static - members)  # dashboard files included, whatever lands under static/
    assert {"tzdata/zoneinfo/Europe/Berlin", "tzdata/zoneinfo/America/Sao_Paulo"} <= members
    for extension in EXTENSIONS:
        assert any(member.startswith(extension) and member.endswith(".so") for member in members), extension


def test_readme_install_names_what_make_dist_builds():
    readme = (REPO / "README.md").read_text()
    install = readme.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    commands = "\n".join(re.findall(r"```sh\n(.*?)```", install, re.S)).replace("$(uname -m)", platform.machine())
    artefacts = re.findall(r"\bdist/\S+", commands)
    assert len(artefacts) == 2, artefacts  # the executable and the wheel
    for pattern in artefacts:
        assert len(list(REPO.glob(pattern))) == 1, f"README's {pattern} matches no single file of `make dist`"
    unit = (REPO / "docs" / "novaro-lite.service").read_text()
    executable = re.search(r"^ExecStart=(\S+) serve ", unit, re.M)
    assert executable and f"dist/novaro-lite-*-linux-{platform.machine()} {executable.group(1)}" in commands
    assert "docs/novaro-lite.service" in install
