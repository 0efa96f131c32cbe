"""What a message becomes within the API's limits (pure): a long body is cut with a note,
never refused; an empty subject or body gets a placeholder; and whether a reply to a finished
ticket reopens it."""

from __future__ import annotations

import datetime as dt

from bot.rules.desk_status import FINISHED
from bot.rules.validation import MAX_BODY_BYTES, MAX_NAME, MAX_SUBJECT

NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text)"
TRUNCATED_NOTE = "\n\n[TinyDesk: the message was longer than {kb} KB and was cut here.]"


def fit_subject(subject: str) -> str:
    text = " ".join(subject.split())
    return text[:MAX_SUBJECT] if text else NO_SUBJECT


def fit_body(text: str, max_bytes: int = MAX_BODY_BYTES) -> str:
    """``text`` if it fits in ``max_bytes`` of UTF-8, else its start and a note saying so."""
    text = text.strip() or NO_TEXT
    if len(text.encode()) <= max_bytes:
        return text
    note = TRUNCATED_NOTE.format(kb=max_bytes // 1024)
    room = max_bytes - len(note.encode())
    cut = text.encode()[:room].decode("utf-8", "ignore").rstrip()
    return cut + note


def fit_name(name: str | None) -> str | None:
    if not name:
        return None
    text = " ".join(name.split())
    return text[:MAX_NAME] or None


def finished_at(
    resolved_at: dt.datetime | None, staff_closed_at: dt.datetime | None, updated_at: dt.datetime
) -> dt.datetime:
    """When a finished ticket finished: resolved, else closed by staff, else its last change."""
    return resolved_at or staff_closed_at or updated_at


def reply_reopens(
    status: str, finished: dt.datetime, now: dt.datetime, reopen_days: int
) -> bool | None:
    """For a reply to a ticket: None while it is not finished (the reply is just a comment);
    True when it finished within ``reopen_days`` (the reply reopens it); False when longer
    ago (the reply opens a new ticket that names the old one)."""
    if status not in FINISHED:
        return None
    return now - finished <= dt.timedelta(days=reopen_days)
