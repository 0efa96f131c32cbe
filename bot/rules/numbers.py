"""The whole numbers clients send (in paths, query strings, cursors and bodies), bounded to
what the database columns hold, so that a number too big is a 400 or a 404, never an
``OverflowError`` in the driver (SQLite) or a ``DataError`` (PostgreSQL)."""

from __future__ import annotations

# Row ids: BIGINT on PostgreSQL, INTEGER (64-bit) on SQLite (storage.models.BigId).
MAX_ROW_ID = 2**63 - 1
# GitHub issue and pull request numbers: Integer columns (32-bit on PostgreSQL).
MAX_ISSUE_NUMBER = 2**31 - 1


def whole_number(text: str | None, *, maximum: int = MAX_ROW_ID, minimum: int = 1) -> int | None:
    """``text`` as a whole number from ``minimum`` to ``maximum``, or None.

    ASCII digits only: no sign, space, underscore or other script's digits, all of which
    ``int()`` would take. Leading zeros are fine (``TK-00042``); the length is checked before
    ``int()`` runs, so a thousand digits are refused without converting them (past 4,300
    digits ``int()`` raises)."""
    if text is None or not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return None
    number = int(significant)
    return number if minimum <= number <= maximum else None


def bounded_int(value: object, *, maximum: int = MAX_ROW_ID, minimum: int = 1) -> int | None:
    """A JSON number that is a whole number from ``minimum`` to ``maximum``, or None.

    ``12.0`` is 12, as JSON Schema's ``integer`` says; ``True`` is not 1 here."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if minimum <= value <= maximum else None
