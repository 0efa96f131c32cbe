"""SlaEventRepo: the tickets an SLA alert sweep takes, and the warnings and breaches it
records, each once (the unique key of ``sla_events``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import SlaEvent, Ticket


class SlaEventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tickets_due(self, now: dt.datetime, *, limit: int) -> Sequence[Ticket]:
        """Up to ``limit`` tickets whose next alert instant has come, earliest first, locked
        for this transaction; on PostgreSQL, tickets another sweep holds are left to it
        (``ix_tickets_sla_alert_at`` serves the order)."""
        query = (
            select(Ticket)
            .where(Ticket.sla_alert_at <= now)
            .order_by(Ticket.sla_alert_at, Ticket.id)
            .limit(limit)
        )
        locked = dialect.lock_rows_skipping_locked(self.session, query)
        return (await self.session.scalars(locked)).all()

    async def put_off(self, ticket_id: int, until: dt.datetime) -> None:
        """Look at the ticket again at ``until`` (its sweep failed)."""
        await self.session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(sla_alert_at=until)
        )

    async def record(
        self,
        *,
        ticket_id: int,
        clock: str,
        kind: str,
        due_at: dt.datetime,
        at: dt.datetime,
        policy: str,
    ) -> int | None:
        """Store the event unless it is stored already (by any process, before any restart):
        its id if this call stored it, else None."""
        statement = (
            dialect.insert(self.session, SlaEvent)
            .values(
                ticket_id=ticket_id, clock=clock, kind=kind, due_at=due_at, at=at, policy=policy
            )
            .on_conflict_do_nothing(index_elements=["ticket_id", "clock", "kind", "due_at"])
            .returning(SlaEvent.id)
        )
        return await self.session.scalar(statement)

    async def by_id(self, event_id: int) -> SlaEvent | None:
        return await self.session.get(SlaEvent, event_id)
