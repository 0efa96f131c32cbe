"""Ticket search: what the text typed in the admin search box, or sent as the desk API's
``q``, looks for (``storage.reads.ticket_search`` runs it).

- ``TK-00012`` (any case) or a number alone (``12``): that ticket;
- a desk id (``tkt_…``): that ticket;
- an email address (has an ``@``, no space): that requester's tickets;
- anything else: tickets whose subject holds every word (case does not matter; ``%`` and
  ``_`` are plain characters).

Text no database can store (NUL, lone surrogates) or longer than ``MAX_QUERY_CHARS`` is a
400 with a hint, on the pages and in the API alike.
"""

from __future__ import annotations

import re

from bot.errors import ApiError
from bot.http.bodies import unstorable
from bot.rules.numbers import whole_number
from storage.reads.ticket_search import TicketMatch

MAX_QUERY_CHARS = 200
SEARCH_HINT = (
    "Search for a ticket id (TK-00012 or 12), a desk id (tkt_…), a requester's email or words "
    f"of the subject, in at most {MAX_QUERY_CHARS} characters."
)
_TICKET_NUMBER = re.compile(r"(?:tk-?)?([0-9]+)", re.IGNORECASE)
_DESK_ID = re.compile(r"tkt_[A-Za-z0-9_-]{1,36}")


def ticket_match(text: str) -> TicketMatch | None:
    """What ``text`` looks for, or None when it is blank (no search); ApiError 400 when it
    cannot be searched."""
    if problem := unstorable(text):
        raise ApiError(400, f"The search must not contain {problem}", SEARCH_HINT)
    # Counted as sent, white space included (the OpenAPI document's maxLength).
    if len(text) > MAX_QUERY_CHARS:
        raise ApiError(400, f"The search is longer than {MAX_QUERY_CHARS} characters", SEARCH_HINT)
    query = text.strip()
    if not query:
        return None
    if number := _TICKET_NUMBER.fullmatch(query):
        found = whole_number(number.group(1))
        # More digits than any ticket id can have: a search that finds nothing.
        return TicketMatch(number=found) if found is not None else TicketMatch(nothing=True)
    if _DESK_ID.fullmatch(query):
        return TicketMatch(desk_id=query)
    words = query.split()
    if "@" in query and len(words) == 1:
        return TicketMatch(email=query)
    # Not lower-cased here: the database does it (SQLite only ASCII's), and a word folded in
    # Python would no longer match its own non-ASCII capitals there. At most 100 words fit
    # in the length, so the conditions stay few.
    return TicketMatch(words=tuple(dict.fromkeys(words)))


def describe(match: TicketMatch) -> str:
    """What the search looked for, in a sentence for the page."""
    if match.nothing:
        return "No ticket has a number that large."
    if match.number is not None:
        return f"The ticket numbered {match.number} (a number alone is a ticket number)."
    if match.desk_id is not None:
        return f"The ticket with desk id {match.desk_id}."
    if match.email is not None:
        return f"Tickets from {match.email}."
    shown = ", ".join(f"“{word}”" for word in match.words)
    return f"Tickets whose subject contains {shown}."
