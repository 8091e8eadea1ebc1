"""Outage: how a database that cannot be used is told to the operator, whichever engine runs.

While the database is away every request fails the same way, so a log line per failure (let alone a
traceback) would bury the one fact that matters. The engines turn their drivers' errors into
DatabaseUnavailableError or StorageFullError and report them here: each cause is logged once, then at
most once every REPEAT_SECONDS with how many failures it stood for meanwhile, and one line says when the
database answers again and how long it was away.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from novaro_lite.errors import UnavailableError

logger = logging.getLogger(__name__)
REPEAT_SECONDS = 30.0


class Outage:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self.since: float | None = None  # when the database first failed since it last answered
        self._logged: dict[str, float] = {}  # cause: when it was last logged
        self._unlogged: dict[str, int] = {}  # cause: failures since
        self._failures = 0  # since it last answered

    def failed(self, error: UnavailableError, cause: str) -> UnavailableError:
        """Note that the database failed for `cause` (a short phrase, the same each time); return `error`."""
        now = self._monotonic()
        self._failures += 1
        if self.since is None:
            self.since = now
        last = self._logged.get(cause)
        if last is not None and now - last < REPEAT_SECONDS:
            self._unlogged[cause] = self._unlogged.get(cause, 0) + 1
            return error
        repeats = self._unlogged.pop(cause, 0)
        more = f" ({repeats} more failures since the last report)" if repeats else ""
        logger.warning("database unavailable: %s; answering %d until it is back%s", cause, error.status, more)
        self._logged[cause] = now
        return error

    def answered(self) -> None:
        """Note that the database answered: if it had been failing, say that it is back."""
        if self.since is None:
            return
        logger.warning(
            "database available again after %.1f s; %d calls failed meanwhile",
            self._monotonic() - self.since,
            self._failures,
        )
        self.since, self._failures = None, 0
        self._logged.clear()
        self._unlogged.clear()
