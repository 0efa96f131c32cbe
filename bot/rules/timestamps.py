"""GitHub's timestamps as they come in payloads and answers: ISO 8601 strings with any offset,
or epoch seconds in some old deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Any


def parse_time(value: Any) -> dt.datetime | None:
    """GitHub's timestamps: ISO 8601 strings (any offset) or epoch seconds, in UTC; None for
    anything else, including times a datetime cannot hold (epochs beyond year 9999, NaN, an
    offset that moves year 1 or 9999 out of range: found by ``python -m fuzz readers``)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value, dt.UTC)
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


def shifted(instant: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """``instant + delta``, held at the first or last instant a datetime can hold (a payload
    may say year 1 or 9999, and a slack added to it must not fail)."""
    try:
        return instant + delta
    except OverflowError:
        return LATEST if delta > dt.timedelta(0) else EARLIEST
