"""The signed token of a ticket's one-click unsubscribe link (pure): ``TK-00042.<hmac>``,
under the mail threading key, so that nobody unsubscribes a ticket they were not mailed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from bot.rules import ids

TOKEN_CHARS = 26  # 130 bits


def _sign(key: bytes, public_id: str) -> str:
    digest = hmac.new(key, f"unsubscribe:{public_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_CHARS]


def unsubscribe_token(key: bytes, public_id: str) -> str:
    return f"{public_id}.{_sign(key, public_id)}"


def ticket_of_token(key: bytes, token: str) -> int | None:
    """The ticket number the token unsubscribes, or None (malformed or forged)."""
    public_id, _, signature = token.strip().partition(".")
    number = ids.parse_public_id(public_id)
    if number is None or not signature:
        return None
    canonical = ids.public_id(number)
    if not secrets.compare_digest(_sign(key, canonical), signature.lower()):
        return None
    return number
