"""The name a submitter sees on a staff comment: chosen for the public, never the key's
internal name (often a person's full name) or an email address.

A desk key may carry a ``publicName`` ("Dana from Support"); its comments are signed with
it, and with ``DEFAULT_PUBLIC_AUTHOR`` when it has none. The name is stored on the comment
when it is written, so renaming the key later does not rewrite what submitters were shown.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.rules.validation import FieldErrors

DEFAULT_PUBLIC_AUTHOR = "Support team"
MAX_PUBLIC_NAME = 100
PUBLIC_NAME_RULES = (
    f"publicName must be 1 to {MAX_PUBLIC_NAME} characters, on one line, without @ "
    "(submitters never see an email address), e.g. Dana from Support"
)


def public_author(stored: str | None) -> str:
    """What a submitter sees for a comment's stored public author (None on older rows)."""
    return stored or DEFAULT_PUBLIC_AUTHOR


def validate_public_name(errors: FieldErrors, data: dict[str, Any]) -> str | None:
    """``publicName`` from a request body: None when absent, null or blank (the default)."""
    value = data.get("publicName")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        errors.add("publicName", PUBLIC_NAME_RULES)
        return None
    name = " ".join(value.split())
    if (
        len(name) > MAX_PUBLIC_NAME
        or "@" in name
        or "\uff20" in name  # FULLWIDTH COMMERCIAL AT
        or any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in name)
        or any(c in value for c in "\r\n")
    ):
        errors.add("publicName", PUBLIC_NAME_RULES)
        return None
    return name
