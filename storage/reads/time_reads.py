"""A ticket's time in one read: minutes in all, billable and not, and how many entries (the
figures the desk shows on the ticket; ``bot.billing.time_entries`` lists the entries)."""

from __future__ import annotations

import dataclasses

from storage.reader import Reader

TICKET_TIME = """
SELECT count(*), coalesce(sum(minutes), 0),
       coalesce(sum(CASE WHEN billable THEN minutes ELSE 0 END), 0)
FROM time_entries WHERE ticket_id = $1
"""


@dataclasses.dataclass(frozen=True)
class TicketTime:
    entries: int
    minutes: int
    billable_minutes: int

    @property
    def non_billable_minutes(self) -> int:
        return self.minutes - self.billable_minutes


async def ticket_time(reader: Reader, ticket_id: int) -> TicketTime:
    row = await reader.fetchrow(TICKET_TIME, ticket_id)
    if row is None:  # pragma: no cover - an aggregate always answers one row
        return TicketTime(0, 0, 0)
    return TicketTime(int(row[0]), int(row[1]), int(row[2]))
