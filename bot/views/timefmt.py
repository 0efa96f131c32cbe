"""Timestamps as the API writes them: ISO 8601 UTC with milliseconds and a ``Z``."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def iso_ms(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # What ``isoformat(timespec="milliseconds")`` of the naive UTC time writes (the
    # milliseconds truncated, as the API always has), written directly: a tracking read
    # writes ten of these, and the copy ``replace(tzinfo=None)`` made was a fifth of each.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )
