"""Applying the pipeline's decisions to stored tickets: history, desk status, status comment.

Runs inside the caller's transaction. The decision itself is ``pipeline.decide``; this
module only records it and asks for the issue's status comment to be refreshed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.kinds import JobKind
from bot.rules import pipeline
from bot.rules.desk_status import resolved_at_for, status_for_stage_change
from bot.rules.pipeline import Stage
from storage.models import Product, StageTransition, Ticket
from storage.repos.jobs import JobRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow


@dataclasses.dataclass(frozen=True)
class Cause:
    """Where a transition came from, kept in the history (the public sees only the text)."""

    name: str  # e.g. "pull_request.closed", "deployment_status.created", "staff.closed"
    delivery_id: str | None = None
    actor: str | None = None
    pr_number: int | None = None
    deployment_id: int | None = None
    environment: str | None = None


async def apply(
    session: AsyncSession,
    tickets: Sequence[Ticket],
    product: Product | None,
    signal: pipeline.Signal,
    cause: Cause,
) -> list[Ticket]:
    """Move each ticket as the rules say; returns the tickets that moved."""
    repo = TicketRepo(session)
    now = utcnow()
    moved: list[Ticket] = []
    tracking = product.deployment_tracking if product is not None else True
    for ticket in tickets:
        state = pipeline.TicketState(
            stage=Stage(ticket.stage),
            stage_event_at=ticket.stage_event_at,
            issue_closed=ticket.issue_closed,
            deployment_tracking=tracking,
        )
        decision = pipeline.decide(state, signal)
        ticket.issue_closed = decision.issue_closed
        if not decision.moves:
            continue
        current = ticket.stage
        for step in decision.steps:
            await repo.record_transition(
                StageTransition(
                    ticket_id=ticket.id,
                    from_stage=current,
                    to_stage=step.value,
                    at=now,
                    cause=cause.name,
                    description=pipeline.describe(
                        signal.fact, step, pr=cause.pr_number, environment=cause.environment
                    ),
                    delivery_id=cause.delivery_id,
                    actor=cause.actor,
                    pr_number=cause.pr_number,
                    deployment_id=cause.deployment_id,
                    reason=_closed_reason(signal, step),
                )
            )
            current = step.value
            old_status, ticket.status = (
                ticket.status,
                status_for_stage_change(ticket.status, step.value),
            )
            ticket.resolved_at = resolved_at_for(old_status, ticket.status, ticket.resolved_at, now)
        ticket.stage = current
        ticket.stage_event_at = _latest(ticket.stage_event_at, signal.occurred_at) or now
        ticket.updated_at = now
        moved.append(ticket)
    for product_id, issue_number in {(t.product_id, t.issue_number) for t in moved}:
        if product_id is not None and issue_number is not None:
            await request_status_refresh(session, product_id, issue_number)
    return moved


async def request_status_refresh(session: AsyncSession, product_id: int, issue_number: int) -> None:
    await JobRepo(session).enqueue(
        JobKind.REFRESH_STATUS_COMMENT,
        {"product_id": product_id, "issue_number": issue_number},
        dedupe_key=f"status:{product_id}:{issue_number}",
    )


def _closed_reason(signal: pipeline.Signal, step: Stage) -> str | None:
    if step is not Stage.CLOSED:
        return None
    reason = pipeline.closed_reason(signal.fact)
    return reason.value if reason is not None else None


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None or b is None:
        return b or a
    return max(a, b)
