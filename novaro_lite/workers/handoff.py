"""What the parent of `serve --workers N` hands its worker processes, and how a worker reads it back.

The parent resolves Settings and makes one private directory (mode 0700, removed when it exits) for what
the workers share: prometheus_client's multiprocess files, so /metrics counts the whole server whichever
worker answers the scrape, and the rate-limit windows, so a token's limit holds for the server and not per
worker. Both travel to the workers in the environment, the only thing a freshly spawned interpreter gets
from its parent (config/codec.py says why the Settings go that way too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path

from novaro_lite.config.codec import settings_from_json, settings_to_json
from novaro_lite.config.settings import Settings
from novaro_lite.workers.rate_limits import create_table

# Not NOVARO_LITE_*: load_settings reads every variable of that prefix as a setting.
SETTINGS_ENV = "_NOVARO_WORKER_SETTINGS"
SHARED_DIR_ENV = "_NOVARO_WORKER_SHARED_DIR"
PARENT_ENV = "_NOVARO_WORKER_PARENT"  # the serve process's pid: a worker outlives it by no more than a moment
# prometheus_client picks its multiprocess value store on import when this names a directory, which is
# why it must be in a worker's environment before anything imports prometheus_client there.
PROMETHEUS_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclasses.dataclass(frozen=True)
class WorkerShare:
    """The directory the workers of one server share."""

    directory: Path

    @property
    def metrics_dir(self) -> Path:
        return self.directory / "metrics"

    @property
    def rate_limits_path(self) -> Path:
        return self.directory / "rate-limits"


@dataclasses.dataclass(frozen=True)
class WorkerSetup:
    """What a worker builds its app from."""

    settings: Settings
    share: WorkerShare
    parent_pid: int | None = None


@contextlib.contextmanager
def handed_to_workers(settings: Settings, environ: MutableMapping[str, str]) -> Iterator[WorkerShare]:
    """Make the shared directory and put it and `settings` in `environ`; undo both on the way out."""
    names = (SETTINGS_ENV, SHARED_DIR_ENV, PROMETHEUS_ENV, PARENT_ENV)
    before = {name: environ.get(name) for name in names}
    # A directory of our own, never one from the environment: prometheus_client adds up whatever files it
    # finds there, so a directory left by another run (or shared with another server) would count its
    # requests too.
    share = WorkerShare(Path(tempfile.mkdtemp(prefix="novaro-lite-workers-")))
    share.metrics_dir.mkdir()
    create_table(share.rate_limits_path)
    try:
        environ[SETTINGS_ENV] = settings_to_json(settings)
        environ[PARENT_ENV] = str(os.getpid())
        environ[SHARED_DIR_ENV] = str(share.directory)
        environ[PROMETHEUS_ENV] = str(share.metrics_dir)
        yield share
    finally:
        for name, value in before.items():
            if value is None:
                environ.pop(name, None)
            else:
                environ[name] = value
        shutil.rmtree(share.directory, ignore_errors=True)


def worker_setup(environ: Mapping[str, str]) -> WorkerSetup:
    """Read what the parent handed over; fail clearly when this process was not started as a worker."""
    if SETTINGS_ENV not in environ or SHARED_DIR_ENV not in environ:
        raise RuntimeError(
            f"{SETTINGS_ENV} and {SHARED_DIR_ENV} are not set: create_app_from_environment builds the app of a"
            " worker of `novaro-lite serve --workers N`, which sets them; run that command instead"
        )
    share = WorkerShare(Path(environ[SHARED_DIR_ENV]))
    if environ.get(PROMETHEUS_ENV) != str(share.metrics_dir):
        raise RuntimeError(f"{PROMETHEUS_ENV} must be {share.metrics_dir}, as the parent set it")
    parent = environ.get(PARENT_ENV, "")
    return WorkerSetup(settings_from_json(environ[SETTINGS_ENV]), share, int(parent) if parent.isdigit() else None)
