"""DeskRepo: the help-desk queries: visible tickets, keyset pages, comments and stats.

Every query takes a ``Visibility`` (the caller's product scope) and leaves out soft-deleted
tickets, so a scoped key can neither read, change nor count another product's ticket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Float, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.functions import FunctionElement

from storage.models import Comment, Ticket, TicketTag


@dataclasses.dataclass(frozen=True)
class Visibility:
    """Which tickets a caller sees: those of ``product_ids`` (None: every ticket), plus the
    product-less tickets it created itself (``creator``, matched against created_by)."""

    product_ids: tuple[int, ...] | None
    creator: str | None = None

    def clause(self) -> ColumnElement[bool]:
        live = Ticket.deleted_at.is_(None)
        if self.product_ids is None:
            return live
        own = (
            and_(Ticket.product_id.is_(None), Ticket.created_by == self.creator)
            if self.creator
            else None
        )
        in_scope = Ticket.product_id.in_(self.product_ids)
        return and_(live, or_(in_scope, own) if own is not None else in_scope)


@dataclasses.dataclass(frozen=True)
class TicketFilters:
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    tag: str | None = None


class seconds_between(FunctionElement[float]):
    """Seconds from the first timestamp to the second, in SQL on either database."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_between_pg(element, compiler, **kw) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps these as naive UTC text (storage.types.UTCDateTime); julianday parses it.
    start, end = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0)"
    )


@dataclasses.dataclass(frozen=True)
class DeskStats:
    by_status: dict[str, int]
    avg_resolution_seconds: float | None


class DeskRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _tickets(self, visibility: Visibility):
        return (
            select(Ticket)
            .where(visibility.clause())
            .options(selectinload(Ticket.tags), selectinload(Ticket.product))
        )

    async def visible_by_number(self, number: int, visibility: Visibility) -> Ticket | None:
        query = self._tickets(visibility).where(Ticket.id == number)
        return await self.session.scalar(query.execution_options(populate_existing=True))

    async def visible_by_desk_id(self, desk_id: str, visibility: Visibility) -> Ticket | None:
        query = self._tickets(visibility).where(Ticket.desk_id == desk_id)
        return await self.session.scalar(query.execution_options(populate_existing=True))

    async def page(
        self,
        visibility: Visibility,
        filters: TicketFilters,
        *,
        before_id: int | None,
        limit: int,
    ) -> Sequence[Ticket]:
        """Up to ``limit`` tickets, newest first, with ids below ``before_id`` (keyset).

        New tickets get higher ids, so a walk that started earlier never sees them twice
        or shifts: each matching ticket is returned exactly once.
        """
        query = self._tickets(visibility)
        # The keyset column: with a tag, the tag index's own ticket_id (equal to Ticket.id
        # by the join), so that the index on (tag, ticket_id) yields the page in order
        # instead of every tagged ticket being fetched and sorted.
        key = Ticket.id
        if filters.tag is not None:
            # ticket_tags' key is (ticket_id, tag): the join yields at most one row a ticket.
            query = query.join(
                TicketTag, and_(TicketTag.ticket_id == Ticket.id, TicketTag.tag == filters.tag)
            )
            key = TicketTag.ticket_id
        if filters.status is not None:
            query = query.where(Ticket.status == filters.status)
        if filters.priority is not None:
            query = query.where(Ticket.priority == filters.priority)
        if filters.assignee is not None:
            query = query.where(Ticket.assignee == filters.assignee)
        if before_id is not None:
            query = query.where(key < before_id)
        query = query.order_by(key.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def comments(self, ticket_id: int) -> Sequence[Comment]:
        """Every comment, internal notes included: staff only."""
        query = select(Comment).where(Comment.ticket_id == ticket_id).order_by(Comment.id)
        return (await self.session.scalars(query)).all()

    async def add_comment(self, comment: Comment) -> Comment:
        self.session.add(comment)
        await self.session.flush()
        return comment

    async def stats(self, visibility: Visibility) -> DeskStats:
        """Counts per status (one GROUP BY) and the mean time to resolution."""
        counts = await self.session.execute(
            select(Ticket.status, func.count()).where(visibility.clause()).group_by(Ticket.status)
        )
        by_status = {status: count for status, count in counts.all()}
        avg = await self.session.scalar(
            select(func.avg(seconds_between(Ticket.created_at, Ticket.resolved_at))).where(
                visibility.clause(), Ticket.resolved_at.is_not(None)
            )
        )
        return DeskStats(by_status, float(avg) if avg is not None else None)
