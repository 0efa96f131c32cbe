"""DeskRepo: the help-desk ORM queries behind staff changes: visible tickets and comments.

The read-only requests (list pages, one ticket, stats) run in plain SQL:
storage.reads.desk_reads.

Every query takes a ``Visibility`` (storage.visibility: the caller's product scope, which
leaves out soft-deleted tickets), so a scoped key can neither read, change nor count
another product's ticket.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage import dialect
from storage.models import Comment, SlaCount, Ticket, TicketCount
from storage.visibility import Visibility

# Fold the count deltas once there are this many (see compact_counts).
COMPACT_AFTER_ROWS = 1000
# Any fixed numbers: the PostgreSQL advisory locks that let one process compact at a time.
_COMPACT_LOCK_KEY = {"ticket_counts": 7_362_002, "sla_counts": 7_362_011}


class DeskRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _tickets(self, visibility: Visibility) -> Select[Ticket]:
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

    async def comments(self, ticket_id: int) -> Sequence[Comment]:
        """Every comment, internal notes included: staff only."""
        query = select(Comment).where(Comment.ticket_id == ticket_id).order_by(Comment.id)
        return (await self.session.scalars(query)).all()

    async def add_comment(self, comment: Comment) -> Comment:
        self.session.add(comment)
        await self.session.flush()
        return comment


async def compact_counts(session: AsyncSession, *, min_rows: int = COMPACT_AFTER_ROWS) -> int:
    """Fold ``ticket_counts`` into one row per (product, owner, status), and ``sla_counts``
    into one per (product, owner, priority, outcomes), each once it has ``min_rows``;
    returns the rows removed. Safe beside writers (``dialect.fold_rows``)."""
    removed = 0
    for table, keys, sums in (
        (TicketCount, "product_id, owner, status", "tickets, resolved, resolution_seconds"),
        (
            SlaCount,
            "product_id, owner, priority, response_outcome, resolution_outcome",
            "tickets, resolved, resolution_minutes",
        ),
    ):
        if (await session.scalar(select(func.count()).select_from(table)) or 0) < min_rows:
            continue
        summed = ", ".join(f"sum({column})" for column in sums.split(", "))
        folded = (
            f"SELECT {keys}, {summed} FROM {{source}} GROUP BY {keys} "
            "HAVING sum(tickets) <> 0 OR sum(resolved) <> 0"
        )
        removed += await dialect.fold_rows(
            session,
            table.__tablename__,
            f"{keys}, {sums}",
            folded,
            lock_key=_COMPACT_LOCK_KEY[table.__tablename__],
        )
    return removed
