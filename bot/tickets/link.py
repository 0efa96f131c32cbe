"""Linking a ticket to an existing issue of its product's repository (e.g. a duplicate of a
problem already being fixed): it then follows that issue, level with its other tickets."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules import ids, pipeline
from bot.tickets import transitions
from storage.models import Product, Ticket
from storage.repos.products import ProductRepo
from storage.repos.tickets import TicketRepo

LINKED_BY_STAFF = transitions.Cause("staff.linked", actor="admin")


def leading_stage(siblings: Sequence[Ticket]) -> pipeline.Stage | None:
    """The furthest stage among an issue's tickets; a newly linked ticket is brought to it."""
    stages = [pipeline.Stage(t.stage) for t in siblings]
    return max(stages, key=lambda s: pipeline.RANK[s], default=None)


async def linkable_ticket(session: AsyncSession, public_id: str) -> tuple[Ticket, Product]:
    """The ticket and its product, if the ticket may be linked to an issue; else ApiError."""
    number = ids.parse_public_id(public_id)
    ticket = await TicketRepo(session).by_number(number) if number else None
    if ticket is None:
        raise ApiError(404, "Ticket not found", "Check the publicId.")
    if ticket.deleted_at is not None:
        raise ApiError(
            409,
            "Ticket deleted",
            f"{ids.public_id(ticket.id)} was deleted by staff; a deleted ticket follows no issue.",
        )
    if ticket.product_id is None:
        raise ApiError(
            409, "Ticket has no product", "Only tickets filed against a product follow GitHub."
        )
    if ticket.issue_number is not None:
        raise ApiError(
            409,
            "Ticket already linked",
            f"{ids.public_id(ticket.id)} follows issue #{ticket.issue_number} already.",
        )
    product = await ProductRepo(session).by_id(ticket.product_id)
    assert product is not None  # removing a product unsets its tickets' product_id
    return ticket, product


async def link_ticket_to_issue(session: AsyncSession, public_id: str, issue: int) -> Ticket:
    """Attach the ticket to ``issue`` (ISSUE_OPENED), then pull it level with the issue's
    other tickets, and ask for the issue's status comment to be refreshed. The caller has
    checked with GitHub that the issue exists (``bot.github.issues.existing_issue``)."""
    ticket, product = await linkable_ticket(session, public_id)
    ticket.issue_number = issue
    await transitions.apply(
        session, [ticket], product, pipeline.Signal(pipeline.Fact.ISSUE_OPENED), LINKED_BY_STAFF
    )
    siblings = [
        t for t in await TicketRepo(session).linked_to_issue(product.id, issue) if t.id != ticket.id
    ]
    leader = leading_stage(siblings)
    if leader is not None and leader.value != ticket.stage:
        # The LABEL_APPLIED fact moves a ticket straight to a named stage, as a label would.
        await transitions.apply(
            session,
            [ticket],
            product,
            pipeline.Signal(pipeline.Fact.LABEL_APPLIED, target=leader),
            LINKED_BY_STAFF,
        )
    await transitions.request_status_refresh(session, product.id, issue)
    return ticket
