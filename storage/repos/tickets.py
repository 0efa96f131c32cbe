"""TicketRepo: tickets, their tags and their stage history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import StageTransition, Ticket, TicketCallback


class TicketRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, ticket: Ticket) -> Ticket:
        """Store a new ticket; its id (the publicId number) is assigned by the database."""
        self.session.add(ticket)
        await self.session.flush()
        return ticket

    async def by_number(self, number: int, *, include_deleted: bool = True) -> Ticket | None:
        query = select(Ticket).where(Ticket.id == number)
        if not include_deleted:
            query = query.where(Ticket.deleted_at.is_(None))
        return await self.session.scalar(query)

    async def by_desk_id(self, desk_id: str) -> Ticket | None:
        return await self.session.scalar(select(Ticket).where(Ticket.desk_id == desk_id))

    async def history(self, ticket_id: int) -> Sequence[StageTransition]:
        query = (
            select(StageTransition)
            .where(StageTransition.ticket_id == ticket_id)
            .order_by(StageTransition.id)
        )
        return (await self.session.scalars(query)).all()

    async def histories(self, ticket_ids: Sequence[int]) -> dict[int, list[StageTransition]]:
        """Each ticket's history, oldest first, in one query."""
        found: dict[int, list[StageTransition]] = {ticket_id: [] for ticket_id in ticket_ids}
        if not found:
            return found
        query = (
            select(StageTransition)
            .where(StageTransition.ticket_id.in_(list(found)))
            .order_by(StageTransition.ticket_id, StageTransition.id)
        )
        for step in await self.session.scalars(query):
            found[step.ticket_id].append(step)
        return found

    async def record_transition(self, transition: StageTransition) -> StageTransition:
        self.session.add(transition)
        await self.session.flush()
        return transition

    async def linked_to_issue(
        self, product_id: int, issue_number: int, *, lock: bool = False
    ) -> Sequence[Ticket]:
        """Tickets on one GitHub issue; ``lock`` holds them (PostgreSQL) until commit, so
        that two deliveries for the same issue are applied one after the other."""
        query = dialect.held(self.session, _ON_ISSUE, _ON_ISSUE_HELD) if lock else _ON_ISSUE
        params = {"product_id": product_id, "issue_number": issue_number}
        return await self._read(query, params)

    async def linked_to_issues(
        self, product_id: int, issue_numbers: Sequence[int], *, lock: bool = False
    ) -> Sequence[Ticket]:
        if not issue_numbers:
            return []
        query = _ON_ISSUES.get(self.session, lock=lock)
        params = {"product_id": product_id, "issue_numbers": list(issue_numbers)}
        return await self._read(query, params)

    async def _read(self, query: Select[Any], params: dict[str, Any]) -> list[Ticket]:
        """The tickets of a read that says with each whether it has an active callback,
        which is remembered for ``active_callback_as_read``."""
        rows = (await self.session.execute(query, params)).all()
        known = self.session.info.setdefault(_ACTIVE_CALLBACK, {})
        tickets: list[Ticket] = [row[0] for row in rows]
        for ticket, row in zip(tickets, rows, strict=True):
            known[ticket.id] = bool(row[1])
        return tickets


def active_callback_as_read(session: AsyncSession, ticket_id: int) -> bool | None:
    """Whether the ticket had an active callback when this transaction last read it on its
    issue (None: it was not read so). A stage change needs no read of its own to learn
    that there is none (``bot.tickets.callbacks``); what is in ``session.info`` lasts until
    the transaction commits or a piece of it fails (``storage.unit``)."""
    known: dict[int, bool] = session.info.get(_ACTIVE_CALLBACK, {})
    return known.get(ticket_id)


_ACTIVE_CALLBACK = "tickets.active_callback"
# Beside each ticket read on its issue: the callback's row is found by its primary key in
# the same statement (a subquery: FOR UPDATE holds only the ticket).
_HAS_ACTIVE_CALLBACK = (
    select(TicketCallback.ticket_id)
    .where(TicketCallback.ticket_id == Ticket.id, TicketCallback.active)
    .exists()
    .label("active_callback")
)


def _with_callback() -> Select[Any]:
    """Each ticket, and whether it has an active callback (typed as one column: the
    repository's helpers take a select of one kind). Its columns are read into a ticket
    already in the session too (``populate_existing``): an inbox batch keeps its session
    across the commits it makes mid-way (a call to GitHub, a waiting writer let in), in
    which another process or request may have changed the ticket; a locked read must see
    what it locked, as the link and fact reads do."""
    return cast(
        "Select[Any]",
        select(Ticket, _HAS_ACTIVE_CALLBACK).execution_options(populate_existing=True),
    )


# Built once (the inbox runs them for nearly every delivery): a statement's construction
# and cache key cost more than the read itself.
_ON_ISSUE = (
    _with_callback()
    .where(
        Ticket.product_id == bindparam("product_id"),
        Ticket.issue_number == bindparam("issue_number"),
    )
    .order_by(Ticket.id)
)
_ON_ISSUE_HELD = _ON_ISSUE.with_for_update()
# Ordered by ``+id`` on SQLite: ordered by ``id``, its planner reads every ticket of the
# product through (product_id, id) to skip a sort of the few rows the issue index finds.
_ON_ISSUES = dialect.Queries(
    lambda name: (
        _with_callback()
        .where(
            Ticket.product_id == bindparam("product_id"),
            Ticket.issue_number.in_(bindparam("issue_numbers", expanding=True)),
        )
        .order_by(dialect.unindexed(name, Ticket.__table__.c.id))
    )
)
