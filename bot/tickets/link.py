"""Linking a ticket to an existing issue of its product's repository (e.g. a duplicate of a
problem already being fixed): it then follows that issue, level with its other tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules import audit as audit_rules
from bot.rules import ids
from bot.tickets import audit, transitions
from bot.tickets.github_issue import open_issue_facts
from storage.models import Product, Ticket
from storage.repos.facts import IssueFactRepo
from storage.repos.products import ProductRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow

LINKED_BY_STAFF = "staff.linked"


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


async def link_ticket_to_issue(
    session: AsyncSession,
    public_id: str,
    issue: int,
    found: dict[str, Any] | None = None,
    *,
    actor: audit.Actor,
    now: dt.datetime | None = None,
) -> Ticket:
    """Attach the ticket to ``issue``: its stage is then derived from the issue's facts, level
    with the issue's other tickets; the issue's status comment is refreshed. ``found`` is
    GitHub's answer about the issue (``bot.github.issues.existing_issue``, which the caller
    asked outside the transaction): it seeds the facts, e.g. an issue closed already.
    ``actor`` (the admin, or the person on the ticket page) is named in the history's cause
    and the audit entry."""
    now = now or utcnow()
    ticket, product = await linkable_ticket(session, public_id)
    ticket.issue_number = issue
    if found is not None:
        await open_issue_facts(session, product, issue, found)
    else:
        await IssueFactRepo(session).hold(product.id, issue)
    cause = transitions.Cause(LINKED_BY_STAFF, actor=actor.name)
    await transitions.refresh_tickets(session, [ticket], product, cause, now=now)
    await transitions.request_status_refresh(session, product.id, issue)
    await audit.record(
        session,
        actor,
        ticket,
        [audit_rules.added("github_issue", f"{product.repo_full_name}#{issue}")],
        now,
    )
    return ticket
