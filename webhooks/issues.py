"""Issue events: assignment, closing, reopening, maintainer labels, and lost-answer recovery.

Each event stores what it says of the issue (with GitHub's time), then the issue's tickets
are re-derived (``bot.tickets.transitions.refresh``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from gidgethub import routing, sansio
from sqlalchemy.ext.asyncio import AsyncSession

from bot.github import comments
from bot.jobs.kinds import JobKind
from bot.rules import pipeline
from bot.tickets import transitions
from bot.tickets.github_issue import close_reason, open_issue_facts
from storage.models import Product
from storage.repos.facts import IssueFactRepo
from storage.repos.jobs import JobRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow
from webhooks.context import HandlerContext, products_for_event
from webhooks.payload import as_number, parse_time

router = routing.Router()


def _issue(event: sansio.Event) -> dict | None:
    issue = event.data.get("issue")
    if not isinstance(issue, dict) or as_number(issue.get("number")) is None:
        return None
    if issue.get("pull_request"):
        return None  # PRs are issues too; their events come as pull_request
    return issue


# Stores the event's facts for one product's issue, in the transaction (the history's detail,
# such as the close's reason, goes in the cause).
Record = Callable[[AsyncSession, Product, int], Awaitable[None]]


async def _follow(
    event: sansio.Event, ctx: HandlerContext, record: Record, **cause: Any
) -> None:
    """Store the event's facts and re-derive the issue's tickets, for every product of the
    repository that has tickets on the issue."""
    issue = _issue(event)
    if issue is None:
        return
    number = issue["number"]
    async with ctx.unit.begin() as session:
        for product in await products_for_event(session, event.data):
            tickets = await TicketRepo(session).linked_to_issue(product.id, number, lock=True)
            if not tickets:
                continue  # not a ticketed issue: nothing to remember
            facts = IssueFactRepo(session)
            await facts.record_created(product.id, number, parse_time(issue.get("created_at")))
            await record(session, product, number)
            await transitions.refresh_tickets(session, tickets, product, ctx.cause(event, **cause))


def _assignment_recorder(event: sansio.Event) -> Record:
    issue = _issue(event) or {}
    assignees = issue.get("assignees")
    if isinstance(assignees, list):
        assigned = bool(assignees)
    else:
        assigned = event.data.get("action") == "assigned" or bool(issue.get("assignee"))
    at = parse_time(issue.get("updated_at"))

    async def record(session: AsyncSession, product: Product, number: int) -> None:
        await IssueFactRepo(session).record_assignment(
            product.id, number, assigned=assigned, at=at
        )

    return record


@router.register("issues", action="assigned")
@router.register("issues", action="unassigned")
async def follow_assignment(event: sansio.Event, *, ctx: HandlerContext) -> None:
    issue = _issue(event)
    if issue is None:
        return
    at = parse_time(issue.get("updated_at"))
    await _follow(event, ctx, _assignment_recorder(event), occurred_at=at)


@router.register("issues", action="closed")
async def follow_issue_close(event: sansio.Event, *, ctx: HandlerContext) -> None:
    issue = _issue(event)
    if issue is None:
        return
    reason = close_reason(issue)
    at = parse_time(issue.get("closed_at")) or parse_time(issue.get("updated_at"))
    grace_until = utcnow() + dt.timedelta(seconds=ctx.close_grace_seconds)

    async def record(session: AsyncSession, product: Product, number: int) -> None:
        news = await IssueFactRepo(session).record_state(
            product.id, number, state="closed", reason=reason, at=at, grace_until=grace_until
        )
        if news and reason == "completed":
            await JobRepo(session).enqueue(
                JobKind.CONFIRM_CLOSE,
                {"product_id": product.id, "issue_number": number, "delivery_id": ctx.delivery_id},
                dedupe_key=f"close:{product.id}:{number}",
                run_at=grace_until,
            )

    await _follow(event, ctx, record, detail=reason, occurred_at=at)


@router.register("issues", action="reopened")
async def follow_issue_reopen(event: sansio.Event, *, ctx: HandlerContext) -> None:
    issue = _issue(event)
    if issue is None:
        return
    at = parse_time(issue.get("updated_at"))

    async def record(session: AsyncSession, product: Product, number: int) -> None:
        await IssueFactRepo(session).record_state(
            product.id, number, state="open", reason="reopened", at=at
        )

    await _follow(event, ctx, record, occurred_at=at)


@router.register("issues", action="labeled")
async def follow_maintainer_label(event: sansio.Event, *, ctx: HandlerContext) -> None:
    label = event.data.get("label")
    name = label.get("name") if isinstance(label, dict) else None
    target = pipeline.stage_for_label(name if isinstance(name, str) else None)
    issue = _issue(event)
    if target is None or issue is None or ctx.is_own_action(event):
        return
    at = parse_time(issue.get("updated_at"))

    async def record(session: AsyncSession, product: Product, number: int) -> None:
        await IssueFactRepo(session).record_label(product.id, number, stage=target.value, at=at)
        await JobRepo(session).enqueue(
            JobKind.REMOVE_LABEL,
            {"product_id": product.id, "issue_number": number, "name": name},
        )

    await _follow(event, ctx, record, occurred_at=at)


@router.register("issues", action="opened")
async def recover_issue_whose_creation_answer_was_lost(
    event: sansio.Event, *, ctx: HandlerContext
) -> None:
    """An issue TinyDesk opened carries its ticket's marker; if the ticket never heard back
    from GitHub, link it now (the outbox job would find it too, later)."""
    issue = _issue(event)
    number = comments.marked_ticket(issue.get("body")) if issue else None
    if issue is None or number is None:
        return
    async with ctx.unit.begin() as session:
        ticket = await TicketRepo(session).by_number(number)
        products = await products_for_event(session, event.data)
        product = next((p for p in products if ticket and p.id == ticket.product_id), None)
        if ticket is None or product is None or ticket.issue_number is not None:
            return
        await open_issue_facts(session, product, issue["number"], issue)
        ticket.issue_number = issue["number"]
        await transitions.refresh_tickets(
            session,
            [ticket],
            product,
            ctx.cause(event, occurred_at=parse_time(issue.get("created_at"))),
        )
