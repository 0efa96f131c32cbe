"""The desk list's page cursor: opaque to clients, base64url of ``{"id": <last ticket number>}``."""

from __future__ import annotations

import base64
import binascii
import json

from bot.errors import ApiError
from bot.rules.numbers import bounded_int

MAX_CURSOR = 200
INVALID_CURSOR = "Invalid cursor"


def encode_cursor(last_id: int) -> str:
    """Opaque to clients: base64url of ``{"id": <last ticket number>}``."""
    raw = json.dumps({"id": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The ticket number a page continues below; any other text is 400 Invalid cursor."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
        last_id = value["id"]
        if type(last_id) is not int or bounded_int(last_id) is None:
            raise ValueError
        return last_id
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400,
            INVALID_CURSOR,
            "Pass the nextCursor of the previous page unchanged, or leave cursor out to start.",
        ) from None
