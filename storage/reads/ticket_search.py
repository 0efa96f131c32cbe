"""What the admin ticket search looks for, as SQL conditions: one ticket by its number or
desk id (primary key / unique index), a requester's tickets by email (``ix_tickets_email_id``),
or tickets whose subject holds every word (a LIKE, the one search that reads the rows).

``bot.tickets.search`` turns the text typed in the search box into a ``TicketMatch``.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import ColumnElement, false

from storage.models import Ticket

LIKE_ESCAPE = "\\"


@dataclasses.dataclass(frozen=True)
class TicketMatch:
    """One of: ``number``, ``desk_id``, ``email``, ``words``; ``nothing`` for a search that
    cannot match (a ticket number larger than any id)."""

    number: int | None = None
    desk_id: str | None = None
    email: str | None = None
    words: tuple[str, ...] = ()
    nothing: bool = False


def like_contains(text: str) -> str:
    """A LIKE pattern for "contains ``text``": its ``%``, ``_`` and ``\\`` match themselves."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def match_conditions(match: TicketMatch) -> list[ColumnElement[bool]]:
    """The WHERE conditions (joined with AND) for ``match``."""
    if match.nothing:
        return [false()]
    if match.number is not None:
        return [Ticket.id == match.number]
    if match.desk_id is not None:
        return [Ticket.desk_id == match.desk_id]
    if match.email is not None:
        # Both spellings use the index; addresses are stored as they were sent, almost
        # always in lower case.
        return [Ticket.submitter_email.in_(sorted({match.email, match.email.lower()}))]
    # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite: case does not matter.
    return [Ticket.subject.ilike(like_contains(word), escape=LIKE_ESCAPE) for word in match.words]
