"""Checking a TinyDesk callback (or SLA webhook) before trusting it: the HMAC-SHA256 of
``"<X-TinyDesk-Timestamp>.<raw body>"`` under the secret, and a timestamp close to now."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

HEADERS = ("X-TinyDesk-Signature-256", "X-TinyDesk-Signature")


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = 300,
    now: float | None = None,
) -> bool:
    """Whether ``body`` (the raw bytes, as received) was signed with ``secret`` within
    ``tolerance`` seconds of ``now``: a replayed or altered request is False."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-tinydesk-timestamp", "")
    signature = next((lowered[h.lower()] for h in HEADERS if h.lower() in lowered), "")
    if not timestamp.isdigit() or not signature.startswith("sha256="):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(signature, "sha256=" + expected.hexdigest())
