"""Run the built executable the way a self-hoster does: from an empty directory, with `env -i PATH=/usr/bin:/bin`,
in a private mount namespace where the source tree, every venv, the standard library of the Python that built it
and the system's zone files are covered by empty directories, so whatever it finds it carries inside.
"""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import subprocess
import sysconfig
import zoneinfo
from pathlib import Path

from novaro_lite import __version__

REPO = Path(__file__).resolve().parents[2]
EXECUTABLE = REPO / "dist" / f"novaro-lite-{__version__}-linux-{platform.machine()}"
BARE_ENV = ["env", "-i", "PATH=/usr/bin:/bin"]
MISSING = "is missing: `make dist` builds it (`make dist-test` does too)"
# Shared objects of the C extensions the server runs on (uvicorn would quietly run without the first two).
EXTENSIONS = ("uvloop/loop.", "httptools/parser/parser.", "aiohttp/_http_parser.", "pydantic_core/_pydantic_core.")


def hidden_paths() -> list[Path]:
    """What the executable must not need: outermost directories first, none inside another."""
    candidates = {REPO, *(Path(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib"))}
    candidates |= {Path(path) for path in zoneinfo.TZPATH}
    existing = sorted(path.resolve() for path in candidates if path.is_dir())
    return [path for path in existing if not any(other in path.parents for other in existing)]


def install(directory: Path) -> Path:
    """Copy the built executable into `directory` (created empty) as a download would put it there."""
    if not EXECUTABLE.is_file():
        raise AssertionError(f"{EXECUTABLE.relative_to(REPO)} {MISSING}")
    directory.mkdir(parents=True)
    copy = directory / "novaro-lite"
    shutil.copy2(EXECUTABLE, copy)
    return copy


def bare(executable: Path, *args: str) -> list[str]:
    """The command line that runs `executable ARGS` in a bare environment with `hidden_paths()` covered."""
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare.append("--map-root-user")  # an unprivileged user may mount in a namespace of its own
    covers = " && ".join(f"mount -t tmpfs hidden {shlex.quote(str(path))}" for path in hidden_paths())
    return [*unshare, "sh", "-c", f'{covers} && exec {shlex.join(BARE_ENV)} "$0" "$@"', str(executable), *args]


def run(executable: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(bare(executable, *args), cwd=cwd, capture_output=True, text=True, timeout=60)
