"""Audit entries (issue 19, item 6): who changed what on a ticket, from what to what.

``entries(before, after)`` is the rule: the fields whose values differ, one entry each, in a
fixed order, values as text. Some fields keep no values (a body is the submitter's text, and
a comment's or note's text stays in the conversation): their entries say only that they
changed, or name what was added (``added``). ``describe`` is how staff read an entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

# The fields of a ticket an entry may name, in the order entries are written and read, with
# the words staff read them by.
LABELS = {
    "status": "Status",
    "priority": "Priority",
    "assignee": "Assignee",
    "type": "Type",
    "category": "Category",
    "tags": "Tags",
    "source_type": "Source",
    "sla_policy": "SLA policy",
    "subject": "Subject",
    "body": "Message",
    "team_id": "Team",
    "related_asset_id": "Related asset",
    "related_vulnerability_id": "Related vulnerability",
    "source": "Provenance",
    "deleted": "Deleted",
    "client": "Billed to (staff's choice)",
    # Things added, each named by its id (never its text):
    "comment": "Public reply",
    "internal_note": "Internal note",
    "time_entry": "Time entry",
    # GitHub and merging:
    "github_issue": "GitHub issue",
    "merged_into": "Merged into",
    "merged_from": "Merged from",
}
# Fields whose values are not copied into the audit trail.
VALUELESS = frozenset({"body"})
# Longer values are cut (an entry says what changed; the ticket holds the whole value).
MAX_VALUE = 200
# A ``github_issue`` entry's value when staff asked for the issue to be opened (else the
# issue linked, ``owner/repo#12``).
ISSUE_REQUESTED = "requested"
ELLIPSIS = "…"


@dataclasses.dataclass(frozen=True)
class Entry:
    field: str
    old: str | None
    new: str | None


def as_text(value: Any) -> str | None:
    """A field's value as an entry stores it: None stays None, a list is its items joined by
    commas (none: None), a boolean yes or no, a time in ISO 8601; cut at ``MAX_VALUE``."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value)
        if not text:
            return None
    elif isinstance(value, dt.datetime):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + ELLIPSIS


def _order(field: str) -> int:
    return list(LABELS).index(field) if field in LABELS else len(LABELS)


def entries(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Entry]:
    """One entry per field of ``after`` whose text differs from ``before`` (a field missing
    from ``before`` was empty), in ``LABELS`` order; a field in ``VALUELESS`` keeps no
    values."""
    found = []
    for field in sorted(after, key=_order):
        old, new = as_text(before.get(field)), as_text(after[field])
        if old == new:
            continue
        if field in VALUELESS:
            old = new = None
        found.append(Entry(field, old, new))
    return found


def added(field: str, what: str) -> Entry:
    """Something added to the ticket (a reply, a note, a time entry, a link), named by
    ``what``: its id, or a short description of it."""
    return Entry(field, None, as_text(what))


def removed(field: str, what: str) -> Entry:
    return Entry(field, as_text(what), None)


def describe(entry: Entry) -> str:
    """An entry as staff read it: "Status: open → pending", "Internal note added (cmt_…)",
    "Message changed", "Tags: none → billing"."""
    label = LABELS.get(entry.field, entry.field)
    if entry.old is None and entry.new is None:
        return f"{label} changed"
    if entry.field in ("comment", "internal_note", "time_entry"):
        if entry.old is None:
            return f"{label} added ({entry.new})"
        if entry.new is None:
            return f"{label} removed ({entry.old})"
    if entry.field == "github_issue" and entry.old is None:
        if entry.new == ISSUE_REQUESTED:
            return "GitHub issue requested"
        return f"GitHub issue linked: {entry.new}"
    if entry.field == "merged_from":
        return f"{entry.new} was merged into this ticket"
    if entry.field == "merged_into" and entry.new is not None:
        return f"Merged into {entry.new}"
    return f"{label}: {entry.old or 'none'} → {entry.new or 'none'}"
