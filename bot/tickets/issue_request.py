"""Asking for a ticket's GitHub issue now (the ticket page's "Create the GitHub issue"): the
outbox's own ``create_issue`` job (bot.github.outbox) is made due at once, or queued again
when none waits, never run beside another, so GitHub is never asked twice for one ticket."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.jobs.kinds import JobKind
from bot.rules import audit as audit_rules
from bot.rules import ids
from bot.rules.pipeline import Stage
from bot.tickets import audit
from storage.models import QueueState, Ticket
from storage.repos.issue_jobs import IssueJobRepo


def _refusal(ticket: Ticket) -> ApiError | None:
    public_id = ids.public_id(ticket.id)
    if ticket.issue_number is not None:
        return ApiError(
            409, "Ticket already linked", f"{public_id} has issue #{ticket.issue_number}."
        )
    if ticket.product_id is None:
        return ApiError(
            409, "Ticket has no product", "Only tickets filed against a product follow GitHub."
        )
    if ticket.is_test:
        return ApiError(409, "Test ticket", "Tickets made with a test key never reach GitHub.")
    if ticket.stage == Stage.CLOSED.value:
        return ApiError(
            409, "Ticket closed", f"{public_id} is closed and wants no issue; reopen it first."
        )
    return None


async def request_issue(
    session: AsyncSession, actor: audit.Actor, ticket: Ticket, now: dt.datetime
) -> None:
    """Queue (or hurry) the job that opens the ticket's issue; a 409 when it has one, is
    being given one right now, or may not have one (no product, a test ticket, closed)."""
    refused = _refusal(ticket)
    if refused is not None:
        raise refused
    repo = IssueJobRepo(session)
    jobs = await repo.of_ticket(JobKind.CREATE_ISSUE, ticket.id)
    if any(job.state == QueueState.PROCESSING for job in jobs):
        raise ApiError(
            409,
            "Issue being created",
            "TinyDesk is opening the GitHub issue right now; reload the page in a moment.",
        )
    waiting = [job for job in jobs if job.state == QueueState.PENDING]
    if waiting:
        await repo.due_now(waiting[0].id, now)
    else:
        # None waits (an earlier one failed, or was dropped while the ticket was closed): a
        # new one, which first looks for an issue an earlier one may have opened after all.
        await repo.add_searching_first(JobKind.CREATE_ISSUE, ticket.id, now)
    await audit.record(
        session,
        actor,
        ticket,
        [audit_rules.added("github_issue", audit_rules.ISSUE_REQUESTED)],
        now,
    )
