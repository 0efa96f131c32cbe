"""SlaRepo: the SLA policies, and a ticket's pauses, earlier cycles and SLA events.

Policies are read through the session's cache (``session.info``): a batch of intakes or
deliveries asks for the same one or two policies many times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Product, SlaEvent, SlaPolicy, Ticket, TicketSlaCycle, TicketSlaPause

_POLICIES = "tinydesk.sla_policies"


class SlaRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _cache(self) -> dict[int | None, SlaPolicy]:
        cache: dict[int | None, SlaPolicy] = self.session.info.setdefault(_POLICIES, {})
        return cache

    def forget_policies(self) -> None:
        self._cache().clear()

    async def default_policy(self) -> SlaPolicy:
        cache = self._cache()
        if None not in cache:
            found = await self.session.scalar(
                select(SlaPolicy).where(SlaPolicy.is_default).order_by(SlaPolicy.id).limit(1)
            )
            if found is None:  # the seeded row deleted by hand: seed 003's table, unsaved
                found = SlaPolicy(
                    name="Default",
                    is_default=True,
                    targets={},
                    calendar=None,
                    response_ends="comment_or_status",
                    warn_minutes=30,
                )
            cache[None] = found
            if found.id is not None:
                cache[found.id] = found
        return cache[None]

    async def policy(self, policy_id: int | None) -> SlaPolicy:
        """The policy by id; the default one for None or a policy since deleted."""
        cache = self._cache()
        if policy_id is not None and policy_id not in cache:
            found = await self.session.get(SlaPolicy, policy_id)
            if found is None:
                return await self.default_policy()
            cache[policy_id] = found
        return cache[policy_id] if policy_id is not None else await self.default_policy()

    async def by_name(self, name: str) -> SlaPolicy | None:
        return await self.session.scalar(
            select(SlaPolicy).where(func.lower(SlaPolicy.name) == name.lower())
        )

    async def all_policies(self) -> Sequence[SlaPolicy]:
        return (await self.session.scalars(select(SlaPolicy).order_by(SlaPolicy.id))).all()

    async def detach_policy(self, policy_id: int) -> None:
        """Before deleting a policy: its products and tickets fall back to the default."""
        await self.session.execute(
            update(Product).where(Product.sla_policy_id == policy_id).values(sla_policy_id=None)
        )
        await self.session.execute(
            update(Ticket).where(Ticket.sla_policy_id == policy_id).values(sla_policy_id=None)
        )

    async def pauses(self, ticket_id: int) -> list[tuple[dt.datetime, dt.datetime]]:
        query = (
            select(TicketSlaPause.started_at, TicketSlaPause.ended_at)
            .where(TicketSlaPause.ticket_id == ticket_id)
            .order_by(TicketSlaPause.id)
        )
        return [(row.started_at, row.ended_at) for row in await self.session.execute(query)]

    def add_pause(self, ticket_id: int, started_at: dt.datetime, ended_at: dt.datetime) -> None:
        self.session.add(
            TicketSlaPause(ticket_id=ticket_id, started_at=started_at, ended_at=ended_at)
        )

    async def cycles(self, ticket_id: int) -> Sequence[TicketSlaCycle]:
        query = (
            select(TicketSlaCycle)
            .where(TicketSlaCycle.ticket_id == ticket_id)
            .order_by(TicketSlaCycle.id)
        )
        return (await self.session.scalars(query)).all()

    def add_cycle(self, cycle: TicketSlaCycle) -> None:
        self.session.add(cycle)

    async def events(self, ticket_id: int) -> Sequence[SlaEvent]:
        query = select(SlaEvent).where(SlaEvent.ticket_id == ticket_id).order_by(SlaEvent.id)
        return (await self.session.scalars(query)).all()
