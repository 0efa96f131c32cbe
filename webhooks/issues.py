"""Issue events: assignment, closing, reopening, maintainer labels, and lost-answer recovery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence

from gidgethub import routing, sansio
from sqlalchemy.ext.asyncio import AsyncSession

from bot.github import comments
from bot.jobs.kinds import JobKind
from bot.rules import pipeline
from bot.rules.pipeline import Fact
from bot.tickets import transitions
from storage.models import Product, Ticket
from storage.repos.jobs import JobRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow
from webhooks.context import HandlerContext, products_for_event
from webhooks.payload import as_int, parse_time, sender_login

router = routing.Router()

NOT_PLANNED_REASONS = {"not_planned", "duplicate"}
# How long a completed close waits for the merge that may have caused it to be delivered.
CLOSE_GRACE_SECONDS = 60


def _issue(event: sansio.Event) -> dict | None:
    issue = event.data.get("issue")
    if not isinstance(issue, dict) or as_int(issue.get("number")) is None:
        return None
    if issue.get("pull_request"):
        return None  # PRs are issues too; their events come as pull_request
    return issue


# Work queued beside a move, in its transaction: (session, product, issue number, tickets).
FollowUp = Callable[[AsyncSession, Product, int, Sequence[Ticket]], Awaitable[None]]


async def _move_issue_tickets(
    event: sansio.Event,
    ctx: HandlerContext,
    fact: Fact,
    *,
    follow_up: FollowUp | None = None,
    **facts,
) -> None:
    issue = _issue(event)
    if issue is None:
        return
    occurred_at = facts.pop("occurred_at", None) or parse_time(issue.get("updated_at"))
    async with ctx.unit.begin() as session:
        for product in await products_for_event(session, event.data):
            tickets = await TicketRepo(session).linked_to_issue(
                product.id, issue["number"], lock=True
            )
            if not tickets:
                continue
            await transitions.apply(
                session,
                tickets,
                product,
                pipeline.Signal(fact, occurred_at=occurred_at, **facts),
                ctx.cause(event),
            )
            if follow_up is not None:
                await follow_up(session, product, issue["number"], tickets)


@router.register("issues", action="assigned")
async def start_fix_when_assigned(event: sansio.Event, *, ctx: HandlerContext) -> None:
    await _move_issue_tickets(event, ctx, Fact.ISSUE_ASSIGNED)


@router.register("issues", action="closed")
async def close_tickets_when_issue_closes(event: sansio.Event, *, ctx: HandlerContext) -> None:
    issue = _issue(event)
    if issue is None:
        return
    reason = str(issue.get("state_reason") or "completed").lower()
    fact = (
        Fact.ISSUE_CLOSED_NOT_PLANNED
        if reason in NOT_PLANNED_REASONS
        else Fact.ISSUE_CLOSED_COMPLETED
    )

    async def confirm_later(session, product, issue_number, tickets) -> None:
        if fact is Fact.ISSUE_CLOSED_COMPLETED and any(t.issue_closed for t in tickets):
            await JobRepo(session).enqueue(
                JobKind.CONFIRM_CLOSE,
                {
                    "product_id": product.id,
                    "issue_number": issue_number,
                    "delivery_id": ctx.delivery_id,
                    "actor": sender_login(event.data),
                },
                dedupe_key=f"close:{product.id}:{issue_number}",
                run_at=utcnow() + dt.timedelta(seconds=CLOSE_GRACE_SECONDS),
            )

    await _move_issue_tickets(
        event, ctx, fact, follow_up=confirm_later, occurred_at=parse_time(issue.get("closed_at"))
    )


@router.register("issues", action="reopened")
async def reopen_tickets_when_issue_reopens(event: sansio.Event, *, ctx: HandlerContext) -> None:
    await _move_issue_tickets(event, ctx, Fact.ISSUE_REOPENED)


@router.register("issues", action="labeled")
async def move_tickets_by_maintainer_label(event: sansio.Event, *, ctx: HandlerContext) -> None:
    label = event.data.get("label")
    target = pipeline.stage_for_label(label.get("name") if isinstance(label, dict) else None)
    issue = _issue(event)
    if target is None or issue is None or ctx.is_own_action(event):
        return

    async def remove_label(session, product, issue_number, tickets) -> None:
        await JobRepo(session).enqueue(
            JobKind.REMOVE_LABEL,
            {"product_id": product.id, "issue_number": issue_number, "name": label["name"]},
        )

    await _move_issue_tickets(event, ctx, Fact.LABEL_APPLIED, follow_up=remove_label, target=target)


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
        ticket.issue_number = issue["number"]
        await transitions.apply(
            session,
            [ticket],
            product,
            pipeline.Signal(Fact.ISSUE_OPENED, occurred_at=parse_time(issue.get("created_at"))),
            ctx.cause(event),
        )
