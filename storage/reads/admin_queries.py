"""Read queries behind the admin pages: ticket lists, full comment threads, failed deliveries, keys.

Reads only; the writes the admin pages make go through the owning repositories and
``storage.repos.queue``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ApiKey, Comment, Delivery, Product, QueueState, Ticket
from storage.reads.ticket_search import TicketMatch, match_conditions
from storage.repos import queue


@dataclasses.dataclass(frozen=True)
class TicketRow:
    """One line of the admin ticket list."""

    ticket: Ticket
    product_slug: str | None


@dataclasses.dataclass(frozen=True)
class TicketPage:
    rows: Sequence[TicketRow]
    # The id to pass as ``before`` for the next (older) page; None on the last page.
    next_before: int | None


class AdminQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tickets_page(
        self,
        *,
        stage: str | None = None,
        product_id: int | None = None,
        before: int | None = None,
        limit: int = 25,
        match: TicketMatch | None = None,
    ) -> TicketPage:
        """Tickets newest first, keyset-paginated on the id: ``before`` is the last id seen;
        ``match`` is the search (``storage.reads.ticket_search``)."""
        query = (
            select(Ticket, Product.slug)
            .outerjoin(Product, Ticket.product_id == Product.id)
            .order_by(Ticket.id.desc())
            .limit(limit + 1)
        )
        if stage:
            query = query.where(Ticket.stage == stage)
        if product_id is not None:
            query = query.where(Ticket.product_id == product_id)
        if before is not None:
            query = query.where(Ticket.id < before)
        if match is not None:
            query = query.where(*match_conditions(match))
        found = (await self.session.execute(query)).all()
        rows = [TicketRow(ticket, slug) for ticket, slug in found[:limit]]
        next_before = rows[-1].ticket.id if len(found) > limit else None
        return TicketPage(rows=rows, next_before=next_before)

    async def all_comments(self, ticket_id: int) -> Sequence[Comment]:
        """Public comments and internal notes, oldest first."""
        query = select(Comment).where(Comment.ticket_id == ticket_id).order_by(Comment.id)
        return (await self.session.scalars(query)).all()

    async def failed_deliveries(self, *, limit: int = 100) -> Sequence[Delivery]:
        """Webhook deliveries parked as failed, newest first."""
        return await queue.newest(self.session, Delivery, state=QueueState.FAILED, limit=limit)

    async def count_failed_deliveries(self) -> int:
        failed = Delivery.state == QueueState.FAILED
        query = select(func.count()).select_from(Delivery).where(failed)
        return await self.session.scalar(query) or 0

    async def tickets_by_stage(self) -> dict[str, int]:
        rows = await self.session.execute(select(Ticket.stage, func.count()).group_by(Ticket.stage))
        return {stage: count for stage, count in rows.all()}

    async def api_keys(self) -> Sequence[ApiKey]:
        """Every desk API key (only hashes and display prefixes are stored), newest first."""
        return (await self.session.scalars(select(ApiKey).order_by(ApiKey.id.desc()))).all()
