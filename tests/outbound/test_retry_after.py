"""Retry-After: delta-seconds and HTTP dates, bounded whatever the other side sends."""

from __future__ import annotations

import email.utils

import pytest

from novaro_lite.outbound.retry_after import MAX_RETRY_AFTER_SECONDS, retry_after_seconds

NOW = 1_700_000_000.0


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("7", NOW) == 7
    later = email.utils.formatdate(NOW + 60, usegmt=True)
    wait = retry_after_seconds(later, NOW)
    assert wait is not None and 55 <= wait <= 61
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("1" * 310, MAX_RETRY_AFTER_SECONDS),  # float() of it overflowed a round() into a 500
        ("99999999999", MAX_RETRY_AFTER_SECONDS),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a past date
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_SECONDS),
        ("Mon, 01 Jan 99999 00:00:00 GMT", None),
        ("-5", None),
    ],
)
def test_retry_after_is_bounded(value, expected):
    assert retry_after_seconds(value, NOW) == expected
