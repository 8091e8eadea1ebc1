"""A clock that tests move by hand: pass it to create_app(clock=…) and set `now`."""

from __future__ import annotations

import datetime
import time

# A Monday at noon UTC (14:00 in Paris): the default agent (UTC, awake 08:00-23:00) is awake and no quiet hours
# of the tests hold it, so a test that starts here does not pass or fail by the hour CI happens to run it.
MIDDAY = datetime.datetime(2026, 5, 4, 12, 0, tzinfo=datetime.UTC).timestamp()


class Clock:
    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now
