"""A worker of `serve --workers N` lives and dies with the serve process that started it.

uvicorn's supervisor stops its workers when it is asked to stop, but not when it is killed (kill -9, the
OOM killer): its workers would go on serving and delivering, holding the port, with no parent to stop them.
So each worker asks Linux to send it SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG) and then checks
the parent is still the one that started it (it may have died just before). SIGTERM is a worker's graceful
stop: it hands its claimed requests back. SIGHUP (a terminal or an ssh session hanging up, `systemctl
kill -s HUP`) reaches the workers too, not only the parent, which ignores it: they ignore it as well,
rather than die mid-request.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def follow_parent(parent_pid: int | None) -> None:
    """Stop with the parent; ignore SIGHUP. Raise if the parent is already gone."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        raise RuntimeError("the serve process that started this worker has exited")
