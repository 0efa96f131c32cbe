"""What a ticket search looks for, as SQL conditions: one ticket by its number or desk id
(primary key / unique index), a requester's tickets by email (``ix_tickets_email_id``), or
tickets whose subject holds every word (a LIKE, the one search that reads the rows).

``bot.tickets.search`` turns the text typed in a search box (or sent as the desk API's
``q``) into a ``TicketMatch``. One rule, two renderings, as ``storage.visibility`` does: the
ORM clause (``match_conditions``, the admin pages) and SQL over ``tickets t``
(``match_sql``, the desk's plain-SQL list); a test checks that both select the same tickets.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import ColumnElement, false, func

from storage.models import Ticket
from storage.visibility import Params

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
    """The WHERE conditions (joined with AND) for ``match``, as ORM clauses."""
    if match.nothing:
        return [false()]
    if match.number is not None:
        return [Ticket.id == match.number]
    if match.desk_id is not None:
        return [Ticket.desk_id == match.desk_id]
    if match.email is not None:
        return [Ticket.submitter_email.in_(email_spellings(match.email))]
    return [
        func.lower(Ticket.subject).like(func.lower(like_contains(word)), escape=LIKE_ESCAPE)
        for word in match.words
    ]


def match_sql(match: TicketMatch, params: Params) -> list[str]:
    """The same conditions as SQL over ``tickets t``, their values bound through ``params``."""
    if match.nothing:
        return ["1 = 0"]
    if match.number is not None:
        return [f"t.id = {params(match.number)}"]
    if match.desk_id is not None:
        return [f"t.desk_id = {params(match.desk_id)}"]
    if match.email is not None:
        spellings = ", ".join(params(e) for e in email_spellings(match.email))
        return [f"t.submitter_email IN ({spellings})"]
    return [
        f"lower(t.subject) LIKE lower({params(like_contains(word))}) ESCAPE '{LIKE_ESCAPE}'"
        for word in match.words
    ]


def email_spellings(email: str) -> list[str]:
    """The address as typed and in lower case: both use the index. Addresses are stored as
    they were sent, almost always in lower case."""
    return sorted({email, email.lower()})
