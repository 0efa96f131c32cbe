"""Deriving stored tickets' stages from GitHub's facts, and recording each change: history,
desk status, status comment.

Runs inside the caller's transaction, after the caller stored the facts its event brought.
The rule itself is ``pipeline.derive``; this module reads the facts, asks it, and records
what changed, with its cause.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.kinds import JobKind
from bot.rules import pipeline
from bot.rules.desk_status import resolved_at_for, status_for_stage_change
from bot.rules.pipeline import ClosedReason, Stage
from bot.tickets import sla_clock, ticket_events
from storage import dialect
from storage.models import (
    IssueFact,
    Product,
    PullRequestLink,
    PullRequestReview,
    StageTransition,
    Ticket,
)
from storage.repos.facts import IssueFactRepo, ReviewRepo
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.jobs import JobRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow

# Causes whose own words say why a ticket closed; other causes closing a ticket (a late
# merge, the end of the close grace) are described by the reason.
CLOSING_CAUSES = frozenset({"issues.closed", "close.confirmed", "staff.closed", "issues.labeled"})
# Causes of ISSUE_CREATED whose time is the issue's own (GitHub's ``created_at``).
ISSUE_OPENING_CAUSES = frozenset({"issue.created", "issues.opened"})


@dataclasses.dataclass(frozen=True)
class Cause:
    """Where a change came from, kept in the history (the public sees only the text)."""

    name: str  # e.g. "pull_request.closed", "deployment_status.created", "staff.closed"
    delivery_id: str | None = None
    actor: str | None = None
    pr_number: int | None = None
    deployment_id: int | None = None
    environment: str | None = None
    # What the name alone does not say: "merged", "approved", "not_planned", "draft"…
    detail: str | None = None
    occurred_at: dt.datetime | None = None  # GitHub's time of the event
    # A close that says why in its own words, and the reason it gives (a merge: "Merged
    # into TK-00012", a duplicate); else the derived reason and its text.
    closed_text: str | None = None
    closed_reason: ClosedReason | None = None


async def refresh(
    session: AsyncSession,
    product: Product,
    issue_numbers: Iterable[int],
    cause: Cause,
    *,
    known: Sequence[Ticket] | None = None,
) -> list[Ticket]:
    """Re-derive the stage of every ticket on these issues (held until commit). ``known``:
    the product's tickets on these issues and perhaps others, by id, as read in this
    transaction already; on SQLite, whose writer holds the database, they are current and
    are not read again. PostgreSQL reads them again, held."""
    numbers = sorted(set(issue_numbers))
    if not numbers:
        return []
    if known is not None and dialect.reads_are_current(session):
        tickets: Sequence[Ticket] = on_issues(known, numbers)
    else:
        tickets = await TicketRepo(session).linked_to_issues(product.id, numbers, lock=True)
    return await refresh_tickets(session, tickets, product, cause)


def on_issues(tickets: Iterable[Ticket], issue_numbers: Iterable[int]) -> list[Ticket]:
    """The tickets on these issues, in the order given."""
    wanted = set(issue_numbers)
    return [ticket for ticket in tickets if ticket.issue_number in wanted]


async def refresh_tickets(
    session: AsyncSession,
    tickets: Sequence[Ticket],
    product: Product | None,
    cause: Cause,
    *,
    now: dt.datetime | None = None,
) -> list[Ticket]:
    """Derive each ticket's stage from its facts and record the changes (at ``now``, by
    default the present); returns the tickets that moved. The caller holds the tickets
    (``lock=True``) when GitHub's facts may change concurrently."""
    if not tickets:
        return []
    issues = sorted({t.issue_number for t in tickets if t.issue_number is not None})
    issue_facts: dict[int, IssueFact] = {}
    links: Sequence[PullRequestLink] = []
    reviews: dict[int, list[PullRequestReview]] = {}
    if product is not None and issues:
        issue_facts = await IssueFactRepo(session).for_issues(product.id, issues)
        links = await PullRequestLinkRepo(session).for_issues(product.id, issues)
        pr_numbers = sorted({link.pr_number for link in links})
        reviews = await ReviewRepo(session).for_prs(product.id, pr_numbers)
    now = now or utcnow()
    moved: list[Ticket] = []
    for ticket in tickets:
        facts = ticket_facts(ticket, product, issue_facts, links, reviews)
        derived = pipeline.derive(facts, now)
        latest = pipeline.latest_fact_at(facts)
        if await _record(session, ticket, derived, cause, facts, now):
            moved.append(ticket)
        if latest is not None:
            ticket.stage_event_at = latest
    for product_id, issue_number in {(t.product_id, t.issue_number) for t in moved}:
        if product_id is not None and issue_number is not None:
            await request_status_refresh(session, product_id, issue_number)
    return moved


def ticket_facts(
    ticket: Ticket,
    product: Product | None,
    issue_facts: dict[int, IssueFact],
    links: Sequence[PullRequestLink],
    reviews: dict[int, list[PullRequestReview]],
) -> pipeline.TicketFacts:
    """The stored rows, as the rules read them."""
    tracking = product.deployment_tracking if product is not None else True
    number = ticket.issue_number
    if product is None or number is None:
        return pipeline.TicketFacts(
            staff_closed_at=ticket.staff_closed_at, deployment_tracking=tracking
        )
    row = issue_facts.get(number)
    issue = pipeline.IssueFacts()
    if row is not None:
        issue = pipeline.IssueFacts(
            state=row.state,
            state_reason=row.state_reason,
            state_at=row.state_at,
            reopened_at=row.reopened_at,
            assigned=row.assigned,
            assigned_at=row.assigned_at,
            label=pipeline.stage_for_value(row.label_stage),
            label_at=row.label_at,
            grace_until=row.close_grace_until,
        )
    pulls = tuple(
        pipeline.PullFacts(
            number=link.pr_number,
            state=pipeline.PullState(link.state),
            draft=link.draft,
            seen_at=link.updated_at,
            merged_at=link.merged_at,
            pushed_at=link.pushed_at,
            shipped_at=link.shipped_at,
            reviews=tuple(
                pipeline.Review(r.reviewer, pipeline.Verdict(r.verdict), r.submitted_at)
                for r in reviews.get(link.pr_number, [])
            ),
        )
        for link in links
        if link.issue_number == number
    )
    return pipeline.TicketFacts(
        has_issue=True,
        issue=issue,
        pulls=pulls,
        staff_closed_at=ticket.staff_closed_at,
        deployment_tracking=tracking,
    )


async def _record(
    session: AsyncSession,
    ticket: Ticket,
    derived: pipeline.Derived,
    cause: Cause,
    facts: pipeline.TicketFacts,
    now: dt.datetime,
) -> bool:
    current = Stage(ticket.stage)
    if derived.stage is current:
        return False
    steps = [derived.stage]
    if derived.reason is ClosedReason.FIXED:
        # The fix went out while the issue was already closed: both steps happened.
        fix_out = Stage.DEPLOYED if facts.deployment_tracking else Stage.MERGED
        if current is not fix_out:
            steps.insert(0, fix_out)
    revised = (
        cause.occurred_at is not None
        and ticket.stage_event_at is not None
        and cause.occurred_at < ticket.stage_event_at
    )
    repo = TicketRepo(session)
    for step in steps:
        closing = step is Stage.CLOSED
        reason = (cause.closed_reason or derived.reason) if closing else None
        if closing and cause.closed_text is not None:
            description = cause.closed_text
        elif closing and (len(steps) > 1 or cause.name not in CLOSING_CAUSES):
            assert derived.reason is not None
            description = pipeline.CLOSED_TEXT[derived.reason]
        else:
            description = pipeline.describe(
                cause.name,
                step,
                detail=cause.detail,
                pr=cause.pr_number,
                environment=cause.environment,
                revised=revised,
            )
        at = now
        if step is Stage.ISSUE_CREATED and cause.name in ISSUE_OPENING_CAUSES and cause.occurred_at:
            at = cause.occurred_at
        transition = await repo.record_transition(
            StageTransition(
                ticket_id=ticket.id,
                from_stage=current.value,
                to_stage=step.value,
                at=at,
                cause=cause.name,
                description=description,
                delivery_id=cause.delivery_id,
                actor=cause.actor,
                pr_number=cause.pr_number,
                deployment_id=cause.deployment_id,
                reason=reason.value if reason else None,
            )
        )
        await ticket_events.publish(
            session,
            ticket_events.TicketEvent(ticket_events.STAGE_CHANGED, ticket, transition=transition),
        )
        current = step
        old_status, ticket.status = (
            ticket.status,
            status_for_stage_change(ticket.status, step.value),
        )
        ticket.resolved_at = resolved_at_for(old_status, ticket.status, ticket.resolved_at, now)
        await sla_clock.status_changed(session, ticket, old_status, by_staff=False, now=now)
    ticket.stage = current.value
    ticket.updated_at = now
    return True


async def request_status_refresh(session: AsyncSession, product_id: int, issue_number: int) -> None:
    await JobRepo(session).enqueue(
        JobKind.REFRESH_STATUS_COMMENT,
        {"product_id": product_id, "issue_number": issue_number},
        dedupe_key=f"status:{product_id}:{issue_number}",
    )
