"""Tenants and applications (seed 002's ``tenant_id`` and ``app_id``): the organisation a
product, a desk key and so a ticket belong to, and the application a key was made for.

A tenant or application id is a slug (``acme``, ``billing-bot``): lowercase letters, digits
and single dashes, at most 64 characters. An install starts with one tenant, ``default``:
everything made without naming one is its.
"""

from __future__ import annotations

import re
from typing import Any

from bot.rules.validation import FieldErrors

DEFAULT_TENANT = "default"
MAX_CHARS = 64
ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MESSAGE = (
    "{field} must be a slug of lowercase letters, digits and single dashes, at most "
    f"{MAX_CHARS} characters (e.g. acme)"
)


def tenant_field(errors: FieldErrors, data: dict[str, Any], field: str) -> str | None:
    """An optional tenant or application id (null or absent: None)."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_CHARS or not ID.match(value):
        errors.add(field, MESSAGE.format(field=field))
        return None
    return value
