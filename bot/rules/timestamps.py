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
