"""Identifiers: sequential publicIds, opaque desk ids, and unguessable tracking tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from bot.rules.numbers import whole_number

PUBLIC_ID_PREFIX = "TK-"
_PUBLIC_ID = re.compile(r"^TK-([0-9]{5,})$", re.IGNORECASE)


def public_id(number: int) -> str:
    """TK-00001 ... TK-99999, then TK-100000 and on: zero-padded to at least five digits."""
    return f"{PUBLIC_ID_PREFIX}{number:05d}"


def parse_public_id(text: str) -> int | None:
    """The ticket number behind a publicId, or None if it is not one (case-insensitive)."""
    match = _PUBLIC_ID.match(text.strip())
    if not match:
        return None
    # Larger than any row id either database can hold: no such ticket.
    return whole_number(match.group(1))


def new_desk_id(prefix: str) -> str:
    """An opaque id such as ``tkt_3kq9...`` (96 random bits)."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def new_tracking_token() -> str:
    """The submitter's secret for seeing the subject and public comments (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Tokens and API keys are stored as their SHA-256: high-entropy secrets need no salt."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secrets_match(secret: str | None, expected_hash: str) -> bool:
    if not secret:
        return False
    return secrets.compare_digest(hash_secret(secret), expected_hash)
