"""The tracking reads every status poll makes, in plain SQL on the Reader (storage.reader).

The rows come back as small records with the attribute names of the models, so that
``bot.views.public_ticket`` draws them the same way as ORM objects.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from storage.reader import Reader, utc


class TrackedTicket(NamedTuple):
    id: int
    stage: str
    subject: str
    tracking_token_hash: str
    created_at: dt.datetime
    updated_at: dt.datetime
    transitions: list[Step]


class Step(NamedTuple):
    from_stage: str | None
    to_stage: str
    at: dt.datetime
    description: str
    reason: str | None = None  # on a step to CLOSED: why


class PublicComment(NamedTuple):
    body: str
    public_author: str | None  # what the submitter sees; never the staff author
    created_at: dt.datetime
    internal: bool = False
    # Written by the submitter (their reply by mail), not by support: computed, no column.
    from_submitter: bool = False


# The fields of the records above that a statement computes rather than reads from a column.
COMPUTED_FIELDS = frozenset({"from_submitter"})


# One statement for the ticket and its history: the ticket's columns repeat on each step.
TICKET_WITH_HISTORY = """
SELECT t.id, t.stage, t.subject, t.tracking_token_hash, t.created_at, t.updated_at,
       s.from_stage, s.to_stage, s.at, s.description, s.reason
FROM tickets t LEFT JOIN stage_transitions s ON s.ticket_id = t.id
WHERE t.id = $1
ORDER BY s.id
"""

PUBLIC_COMMENTS = """
SELECT c.body, c.public_author, c.created_at,
       CASE WHEN lower(c.author) = lower(t.submitter_email) THEN 1 ELSE 0 END AS from_submitter
FROM comments c JOIN tickets t ON t.id = c.ticket_id
WHERE c.ticket_id = $1 AND c.internal = $2
ORDER BY c.id
"""


async def ticket_with_history(reader: Reader, number: int) -> TrackedTicket | None:
    rows = await reader.fetch(TICKET_WITH_HISTORY, number)
    if not rows:
        return None
    first = rows[0]
    steps = [
        Step(row[6], row[7], utc(row[8]), row[9], row[10])  # type: ignore[arg-type]
        for row in rows
        if row[7] is not None
    ]
    return TrackedTicket(
        id=first[0],
        stage=first[1],
        subject=first[2],
        tracking_token_hash=first[3],
        created_at=utc(first[4]),  # type: ignore[arg-type]
        updated_at=utc(first[5]),  # type: ignore[arg-type]
        transitions=steps,
    )


async def public_comments(reader: Reader, ticket_id: int) -> list[PublicComment]:
    rows = await reader.fetch(PUBLIC_COMMENTS, ticket_id, False)
    return [
        PublicComment(body, author, utc(at), from_submitter=bool(mine))  # type: ignore[arg-type]
        for body, author, at, mine in rows
    ]
