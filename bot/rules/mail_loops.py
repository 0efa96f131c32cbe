"""Never a mail loop: which incoming messages are automatic and must get no ticket, no comment
and no answer (pure; RFC 3834, RFC 2369/2919, RFC 3464 and the headers autoresponders send).

Each rule is one header; the first that matches names the reason recorded for the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message

# Local parts of the senders that only ever send notices (bounces, postmaster reports).
DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def _header(message: Message | Mapping[str, str], name: str) -> str | None:
    value = message.get(name)
    return None if value is None else str(value).strip()


def _local_part(address: str) -> str:
    return address.strip().strip("<>").rpartition("@")[0].lower() or address.strip("<> ").lower()


def loop_reason(
    message: Message,
    *,
    sender: str | None = None,
    from_address: str | None = None,
) -> str | None:
    """Why ``message`` is automatic (so TinyDesk ignores it), or None for a person's mail.

    ``sender`` is the SMTP envelope sender (MAIL FROM; ``""`` for the null sender ``<>``),
    None when it is unknown (a pipe without it); ``from_address`` the From header's address.
    """
    auto_submitted = _header(message, "Auto-Submitted")
    if auto_submitted is not None and auto_submitted.split(";")[0].strip().lower() != "no":
        return "auto-submitted"
    precedence = _header(message, "Precedence")
    if precedence is not None and precedence.lower() in BULK_PRECEDENCE:
        return f"precedence-{precedence.lower()}"
    if _header(message, "X-Autoreply") is not None or _header(message, "X-Autorespond") is not None:
        return "autoreply-header"
    if _header(message, "List-Id") is not None:
        return "mailing-list"
    if message.get_content_type() == "multipart/report":
        return "delivery-report"
    return_paths = [str(value) for value in message.get_all("Return-Path") or ()]
    if sender == "" or any(not value.strip("<> \t") for value in return_paths):
        return "null-sender"
    for address in (from_address, sender):
        if address and _local_part(address) in DAEMON_LOCAL_PARTS:
            return "daemon-sender"
    return None
