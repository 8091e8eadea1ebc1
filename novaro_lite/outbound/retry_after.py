"""Reading a Retry-After header (RFC 9110 section 10.2.3): the one parser for every answer the server reads.

Providers' answers, receivers' answers and the provider-busy problem all go through `retry_after_seconds`.
"""

from __future__ import annotations

import contextlib
import email.utils
import re

MAX_RETRY_AFTER_SECONDS = 7 * 86400.0  # a longer Retry-After is read as this
_DELTA_SECONDS = re.compile(r"\d{1,16}")


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds the other side asked us to wait (delta-seconds or an HTTP date, from the unix time `now`), if it said.

    Between 0 and MAX_RETRY_AFTER_SECONDS whatever it sent: a past date is 0, 300 digits are the maximum.
    """
    value = (value or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return (
            float(value)
            if _DELTA_SECONDS.fullmatch(value) and int(value) < MAX_RETRY_AFTER_SECONDS
            else MAX_RETRY_AFTER_SECONDS
        )
    with contextlib.suppress(TypeError, ValueError, OverflowError, IndexError):
        wait = email.utils.parsedate_to_datetime(value).timestamp() - now
        return min(max(0.0, wait), MAX_RETRY_AFTER_SECONDS)
    return None
