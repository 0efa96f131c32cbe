"""Checking fields of what clients send: every failing field collected at once, the email and
URL checks, and the limits on submitted text."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from bot.errors import ApiError

MAX_SUBJECT = 256
MAX_BODY_BYTES = 64 * 1024
MAX_NAME = 200
MAX_EMAIL = 320
MAX_SCREENSHOTS = 3
MAX_URL = 2048


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def is_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL and bool(_EMAIL.match(value)) and ".." not in value


def is_web_url(value: str) -> bool:
    if len(value) > MAX_URL or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class FieldErrors:
    """Collects every failing field, so a client fixes them all in one round."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def required_text(
        self,
        data: dict[str, Any],
        field: str,
        *,
        max_chars: int | None = None,
        max_bytes: int | None = None,
        strip: bool = True,
    ) -> str | None:
        value = data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.add(field, f"{field} is required")
            return None
        return self._text(field, value, max_chars=max_chars, max_bytes=max_bytes, strip=strip)

    def optional_text(
        self, data: dict[str, Any], field: str, *, max_chars: int | None = None
    ) -> str | None:
        value = data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return self._text(field, value, max_chars=max_chars, max_bytes=None, strip=True)

    def optional_bool(self, data: dict[str, Any], field: str, *, default: bool) -> bool:
        value = data.get(field)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(field, f"{field} must be true or false")
            return default
        return value

    def _text(
        self,
        field: str,
        value: object,
        *,
        max_chars: int | None,
        max_bytes: int | None,
        strip: bool,
    ) -> str | None:
        if not isinstance(value, str):
            self.add(field, f"{field} must be a string")
            return None
        if "\x00" in value:
            self.add(field, f"{field} must not contain NUL characters")
            return None
        if strip:
            value = value.strip()
        if max_chars is not None and len(value) > max_chars:
            self.add(field, f"{field} must be at most {max_chars} characters")
            return None
        if max_bytes is not None and len(value.encode("utf-8")) > max_bytes:
            self.add(field, f"{field} must be at most {max_bytes // 1024} KiB")
            return None
        return value

    def raise_if_any(self, hint: str) -> None:
        if self.fields:
            raise ApiError(400, "Validation failed", hint, fields=self.fields)
