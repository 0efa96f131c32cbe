"""Which ticket an incoming message belongs to (pure), in osTicket's order:

1. our own signed Message-ID in ``In-Reply-To``, then in ``References`` right-most first;
2. the signed plus-address token of any recipient (``support+TK-00042.<token>@...``);
3. a signed body marker (``[TinyDesk ref:TK-00042.<token>]``);
4. the subject's publicId, only when the sender is that ticket's submitter (checked by the
   caller, who can read the ticket: ``subject_candidate``).

A token that does not check out is never trusted: it is reported in ``forged`` (for the log)
and the search goes on, so a forged reference opens a new ticket at worst.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from bot.rules import ids, mail_tokens

_SUBJECT_ID = re.compile(r"\bTK-[0-9]{5,}\b", re.IGNORECASE)
_OUR_ID = re.compile(r"^<?td\.", re.IGNORECASE)
_MARKER_START = "[tinydesk ref:"

# The reasons logged and recorded with each decision.
IN_REPLY_TO = "in-reply-to"
REFERENCES = "references"
REPLY_ADDRESS = "reply-address"
BODY_MARKER = "body-marker"
SUBJECT_SUBMITTER = "subject-submitter"


@dataclasses.dataclass(frozen=True)
class Threading:
    public_id: str | None  # the ticket, when a signed clue names it
    reason: str | None  # which clue (IN_REPLY_TO, ...)
    subject_candidate: str | None  # the subject's publicId, trusted only for the submitter
    forged: tuple[str, ...] = ()  # which clues carried a token that did not check out


def message_ids(value: str | None) -> list[str]:
    """The ``<...>`` ids of an In-Reply-To or References header, in order."""
    if not value:
        return []
    found = re.findall(r"<[^<>\s]+>", value)
    return found or [part for part in value.split() if "@" in part]


def subject_public_id(subject: str) -> str | None:
    match = _SUBJECT_ID.search(subject or "")
    if not match:
        return None
    number = ids.parse_public_id(match.group(0))
    return None if number is None else ids.public_id(number)


def find_ticket(
    key: bytes,
    *,
    mail_from: str,
    in_reply_to: Sequence[str],
    references: Sequence[str],
    recipients: Sequence[str],
    body: str,
    subject: str,
) -> Threading:
    forged: list[str] = []
    for reason, candidates in ((IN_REPLY_TO, in_reply_to), (REFERENCES, reversed(references))):
        for value in candidates:
            public_id = mail_tokens.ticket_of_message_id(key, value)
            if public_id is not None:
                return Threading(public_id, reason, None, tuple(forged))
            if _OUR_ID.match(value.strip()) and reason not in forged:
                forged.append(reason)
    for address in recipients:
        recipient = mail_tokens.read_recipient(key, mail_from, address)
        if recipient.kind == "ticket":
            return Threading(recipient.public_id, REPLY_ADDRESS, None, tuple(forged))
        if recipient.kind == "forged" and REPLY_ADDRESS not in forged:
            forged.append(REPLY_ADDRESS)
    public_id = mail_tokens.ticket_of_body(key, body)
    if public_id is not None:
        return Threading(public_id, BODY_MARKER, None, tuple(forged))
    if _MARKER_START in body.lower():
        forged.append(BODY_MARKER)
    return Threading(None, None, subject_public_id(subject), tuple(forged))


def same_address(a: str | None, b: str | None) -> bool:
    """Addresses compared as mail servers do in practice: case-insensitively."""
    return bool(a and b) and a.strip().lower() == b.strip().lower()  # type: ignore[union-attr]
