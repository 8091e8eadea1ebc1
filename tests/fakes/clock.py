"""A clock that tests move by hand: pass it to create_app(clock=…) and set `now`."""

from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now
