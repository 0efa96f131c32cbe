"""TicketAuditRepo: a ticket's audit entries (who changed what), written beside the change
and read oldest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TicketAuditEntry


class TicketAuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entries: Sequence[TicketAuditEntry]) -> None:
        self.session.add_all(entries)
        await self.session.flush()

    async def of_ticket(self, ticket_id: int) -> Sequence[TicketAuditEntry]:
        query = (
            select(TicketAuditEntry)
            .where(TicketAuditEntry.ticket_id == ticket_id)
            .order_by(TicketAuditEntry.id)
        )
        return (await self.session.scalars(query)).all()

    async def latest(self, ticket_id: int, field: str) -> TicketAuditEntry | None:
        """The newest entry of one field (e.g. ``merged_into``: where a ticket went)."""
        query = (
            select(TicketAuditEntry)
            .where(TicketAuditEntry.ticket_id == ticket_id, TicketAuditEntry.field == field)
            .order_by(TicketAuditEntry.id.desc())
            .limit(1)
        )
        return await self.session.scalar(query)
