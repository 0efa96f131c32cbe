"""Merging a duplicate ticket into another (issue 19, item 3; Zendesk's and Zammad's merge):
which merges are refused, and the words each side gets.

The duplicate is closed as a duplicate, tells its submitter where the work goes on (a public
reply naming only the other ticket's publicId) and keeps an internal note; the target gets
the duplicate's conversation as an internal note. Refused, each a 409 (the ticket in the
path exists, so never a 404; what is refused is this merge, given what is stored), with the
error:

| case | error |
| --- | --- |
| a target that does not exist, or is outside the caller's scope | Target ticket not found |
| tickets of two tenants (never both seen; kept as a rule anyway) | Target ticket not found |
| a ticket into itself | Cannot merge a ticket into itself |
| tickets of two products (each follows its repository's issue) | Tickets of different products |
| a duplicate merged already | Ticket already merged |
| a target that was itself merged away | Target was merged away |
| a closed duplicate or a closed target (reopen it first) | Ticket closed |

A ticket of no product may be merged into one of a product, and the other way round: the
duplicate only closes, so nothing of GitHub has to agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.rules.validation import FieldErrors

CLOSED = "closed"
MERGE_CAUSE = "ticket.merged"
MAX_REF = 64
INTO_HINT = 'Send the ticket to merge into: {"into": "TK-00042"} (its publicId or tkt_ id).'


def validate_merge(data: dict[str, Any]) -> str:
    """POST /desk/tickets/{id}/merge: ``into``, the target ticket's reference."""
    errors = FieldErrors()
    into = errors.required_text(data, "into", max_chars=MAX_REF)
    errors.raise_if_any(INTO_HINT)
    assert into is not None
    return into


@dataclasses.dataclass(frozen=True)
class Side:
    """What the rule needs of each ticket."""

    public_id: str
    tenant_id: str
    product_id: int | None
    status: str
    merged_into: str | None = None  # the publicId it was merged into, if it was


@dataclasses.dataclass(frozen=True)
class Refusal:
    status: int
    error: str
    hint: str


def target_not_found(ref: str) -> Refusal:
    return Refusal(
        409,
        "Target ticket not found",
        f"No ticket {ref!r} is open to you to merge into; use its publicId (TK-00042).",
    )


def refusal(duplicate: Side, target: Side) -> Refusal | None:
    """Why ``duplicate`` may not be merged into ``target``, or None (the table above)."""
    if duplicate.public_id == target.public_id:
        return Refusal(
            409, "Cannot merge a ticket into itself", "Name the ticket this one duplicates."
        )
    if duplicate.tenant_id != target.tenant_id:
        return target_not_found(target.public_id)
    if (
        duplicate.product_id is not None
        and target.product_id is not None
        and duplicate.product_id != target.product_id
    ):
        return Refusal(
            409,
            "Tickets of different products",
            f"{duplicate.public_id} and {target.public_id} follow different repositories; "
            "merge only tickets of the same product (or of none).",
        )
    if duplicate.merged_into is not None:
        return Refusal(
            409,
            "Ticket already merged",
            f"{duplicate.public_id} was merged into {duplicate.merged_into} already.",
        )
    if target.merged_into is not None:
        return Refusal(
            409,
            "Target was merged away",
            f"{target.public_id} was itself merged into {target.merged_into}; merge into "
            f"{target.merged_into} instead.",
        )
    for side in (duplicate, target):
        if side.status == CLOSED:
            return Refusal(
                409,
                "Ticket closed",
                f"{side.public_id} is closed; reopen it (status open) before merging.",
            )
    return None


def history_text(target: str) -> str:
    """The duplicate's closing step, as the public history says it."""
    return f"Merged into {target}"


def public_reply(target: str) -> str:
    """What the duplicate's submitter is told: the other ticket's publicId and nothing else
    of it."""
    return (
        f"This ticket was merged into {target}, which is about the same problem; "
        f"the work goes on there."
    )


def duplicate_note(target: str, actor: str) -> str:
    return f"Merged into {target} by {actor}; its conversation is copied there as an internal note."


@dataclasses.dataclass(frozen=True)
class Said:
    """One message of the duplicate's conversation."""

    author: str
    at: dt.datetime
    internal: bool
    body: str


def conversation_note(
    duplicate: str, subject: str, requester: str, body: str, said: Sequence[Said]
) -> str:
    """The internal note the target gets: the duplicate's subject, requester, message and
    every reply and note, in order (staff only: the requester's address is in it)."""
    lines = [
        f"Merged from {duplicate}: {subject}",
        f"Requester: {requester}",
        "",
        body,
    ]
    for message in said:
        kind = "internal note" if message.internal else "reply"
        lines += ["", f"— {kind} by {message.author}, {message.at.isoformat()}:", message.body]
    return "\n".join(lines)
