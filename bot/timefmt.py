"""Timestamps as the API writes them: ISO 8601 UTC with milliseconds and a ``Z``."""

from __future__ import annotations

import datetime as dt


def iso_ms(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
