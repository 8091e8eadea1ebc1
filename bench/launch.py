"""Benchmark: how long `novaro-lite serve` takes from launch until it serves, as the one-file executable of
`make dist` and as `.venv/bin/novaro-lite`, in one run; plus `--version` and the size of each.

Run: .venv/bin/python bench/launch.py [--rounds 5] [--later 3] [--candidate NAME=PATH ...]
(`make dist` first). Each round gives every command a fresh copy (the executable), a fresh HOME and cache
directory and a fresh data directory, launches it once ("first": a new install, which creates the database
and the first token), then `--later` more times on the same files ("later": a restart). Launch-to-serving
is the wall time from exec until GET /healthz answers 200; CPU is the user+system time the server's
processes had used by then. Medians over all rounds. Every process runs with `env -i PATH=/usr/bin:/bin`.
`--candidate` adds another build of the same version (a different freezing tool) to the comparison.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from procs import cpu_seconds  # noqa: E402

from novaro_lite import __version__  # noqa: E402

EXECUTABLE = ROOT / "dist" / f"novaro-lite-{__version__}-linux-{platform.machine()}"
VENV_COMMAND = ROOT / ".venv" / "bin" / "novaro-lite"
STARTED = re.compile(rb"Uvicorn running on (http://[\d.]+:\d+)")


@dataclass
class Figures:
    first: list[float] = field(default_factory=list)
    first_cpu: list[float] = field(default_factory=list)
    later: list[float] = field(default_factory=list)
    later_cpu: list[float] = field(default_factory=list)
    version: list[float] = field(default_factory=list)


def launch_to_serving(command: Path, home: Path, cwd: Path) -> tuple[float, float]:
    """Start `serve --port 0`; return (seconds until /healthz answered, CPU seconds used by then); stop it."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    args = [str(command), "serve", "--port", "0", "--data-dir", "data"]
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if match := STARTED.search(line):
                url = match.group(1).decode()
                break
        else:
            raise RuntimeError(f"{command} exited before serving")
        assert httpx.get(f"{url}/healthz").status_code == 200
        elapsed = time.perf_counter() - started
        return elapsed, cpu_seconds(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def version_seconds(command: Path, home: Path) -> float:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    started = time.perf_counter()
    subprocess.run([str(command), "--version"], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def run_round(name: str, source: Path, later: int, figures: Figures) -> None:
    with tempfile.TemporaryDirectory(prefix="launch-") as scratch:
        base = Path(scratch)
        home, cwd = base / "home", base / "work"
        home.mkdir()
        cwd.mkdir()
        command = source
        if source != VENV_COMMAND:  # a download: a fresh copy, so nothing of an earlier launch is reused
            command = base / "novaro-lite"
            shutil.copy2(source, command)
        seconds, cpu = launch_to_serving(command, home, cwd)
        figures.first.append(seconds)
        figures.first_cpu.append(cpu)
        for _ in range(later):
            seconds, cpu = launch_to_serving(command, home, cwd)
            figures.later.append(seconds)
            figures.later_cpu.append(cpu)
            figures.version.append(version_seconds(command, home))


def size_of_venv_runtime() -> int:
    """Bytes of the files that novaro-lite and its runtime dependencies installed into .venv."""
    code = """
import importlib.metadata
from packaging.requirements import Requirement
seen, todo, size = set(), ["novaro-lite"], 0
while todo:
    dist = importlib.metadata.distribution(todo.pop())
    if dist.name in seen:
        continue
    seen.add(dist.name)
    size += sum(file.size or 0 for file in dist.files or [])
    for line in dist.requires or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            todo.append(requirement.name)
print(size)
"""
    python = str(VENV_COMMAND.parent / "python")
    return int(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--later", type=int, default=3)
    parser.add_argument("--candidate", action="append", default=[], help="NAME=PATH of another one-file build")
    options = parser.parse_args()
    commands = {"executable (PyInstaller)": EXECUTABLE, ".venv/bin/novaro-lite": VENV_COMMAND}
    commands |= dict(candidate.split("=", 1) for candidate in options.candidate)
    for name, path in commands.items():
        if not Path(path).is_file():
            raise SystemExit(f"{path} is missing ({name}); `make dist` builds the executable")
    results = {name: Figures() for name in commands}
    for round_number in range(options.rounds):  # interleaved, so a noisy minute hits every command alike
        for name, path in commands.items():
            run_round(name, Path(path), options.later, results[name])
        print(f"round {round_number + 1}/{options.rounds} done", file=sys.stderr)

    load = os.getloadavg()[0]
    print(f"{options.rounds} rounds × (1 first + {options.later} later launches), medians; load {load:.1f}")
    print("| command | size | first launch → serving | CPU | later launch → serving | CPU | `--version` |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, figures in results.items():
        path = Path(commands[name])
        size = size_of_venv_runtime() if path == VENV_COMMAND else path.stat().st_size
        print(
            f"| {name} | {size / 1e6:.1f} MB | {statistics.median(figures.first):.2f} s "
            f"| {statistics.median(figures.first_cpu):.2f} s | {statistics.median(figures.later):.2f} s "
            f"| {statistics.median(figures.later_cpu):.2f} s | {statistics.median(figures.version):.2f} s |"
        )


if __name__ == "__main__":
    main()
