"""Identifiers: sequential publicIds, opaque desk ids, and unguessable tracking tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

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


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_desk_id(prefix: str, now_ms: int | None = None) -> str:
    """A prefixed ULID such as ``tkt_01JF3ZK8Q4...`` (seed 002): 48 bits of milliseconds and
    80 random bits in Crockford's base 32, so ids sort by creation time."""
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    value = (millis & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    return f"{prefix}_{_base32(value)}"


def _base32(value: int, length: int = 26) -> str:
    """``value`` as ``length`` Crockford base-32 digits, most significant first."""
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(length)))


def person_id(email: str | None) -> str | None:
    """The id of the person behind an address (seed 002's ``submitted_by_id``,
    ``assigned_to_id``): stable, the same in every view, revealing nothing of the address."""
    if not email:
        return None
    digest = hashlib.sha256(email.strip().lower().encode()).digest()
    return "per_" + _base32(int.from_bytes(digest[:17], "big"))


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
