"""A ticket's SLA events (warnings and breaches, each recorded once) in plain SQL on the
Reader, for the staff views; never for the public ones."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from storage.reader import Reader, utc


class SlaEventRecord(NamedTuple):
    kind: str  # warning | breach
    clock: str  # response | resolution
    due_at: dt.datetime
    at: dt.datetime


# The unique key (ticket_id, clock, kind, due_at) leads with the ticket: it serves this.
EVENTS = """
SELECT kind, clock, due_at, at FROM sla_events
WHERE ticket_id = $1
ORDER BY at, id
"""


async def of_ticket(reader: Reader, ticket_id: int) -> list[SlaEventRecord]:
    """Earliest first. Few per ticket (two clocks, a warning and a breach per due time)."""
    return [
        SlaEventRecord(kind, clock, utc(due_at), utc(at))  # type: ignore[arg-type]
        for kind, clock, due_at, at in await reader.fetch_bounded(EVENTS, ticket_id)
    ]
