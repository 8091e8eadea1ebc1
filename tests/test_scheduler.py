from __future__ import annotations

import pytest

from novaro_lite.scheduler import HELD_BACK_GRACE_SECONDS, IDLE_RETRY_SECONDS, next_dispatch

NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("started", "next_due", "at_capacity", "expected"),
    [
        (0, None, False, None),  # nothing pending
        (3, NOW - 5, True, None),  # full: a finishing delivery wakes us
        (3, NOW + 10, False, NOW + 10),  # the next due time
        (3, NOW - 1, False, NOW - 1),  # more already due: at once
        (0, NOW - 1, False, NOW + IDLE_RETRY_SECONDS),  # due but held back: no spinning
        (0, NOW - HELD_BACK_GRACE_SECONDS / 2, False, NOW - HELD_BACK_GRACE_SECONDS / 2),  # fired a hair early
    ],
)
def test_next_dispatch(started, next_due, at_capacity, expected):
    assert next_dispatch(started, next_due, NOW, at_capacity=at_capacity) == expected
