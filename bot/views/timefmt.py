"""Timestamps as the API writes them: ISO 8601 UTC with milliseconds and a ``Z``."""

from __future__ import annotations

import datetime as dt


def iso_ms(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    # isoformat truncates to milliseconds (as the API always has) and is far cheaper than strftime.
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
