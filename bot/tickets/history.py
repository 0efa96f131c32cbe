"""Loading a ticket's staff history (``bot.views.ticket_history``): its stage changes, audit
entries and SLA events, for the desk API and the ticket page alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.views.ticket_history import timeline
from storage.reader import Reader
from storage.reads import sla_events
from storage.repos.audit import TicketAuditRepo
from storage.repos.tickets import TicketRepo


async def staff_history(
    session: AsyncSession, reader: Reader, ticket_id: int
) -> list[dict[str, Any]]:
    """Oldest first. The caller has checked that the ticket is theirs to see."""
    steps = await TicketRepo(session).history(ticket_id)
    entries = await TicketAuditRepo(session).of_ticket(ticket_id)
    events = await sla_events.of_ticket(reader, ticket_id)
    return timeline(steps, entries, events)
