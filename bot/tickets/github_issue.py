"""What TinyDesk learns of a GitHub issue it links a ticket to, from GitHub's own answer or an
event: stored as the issue's facts (``storage.repos.facts``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import pipeline
from bot.rules.timestamps import parse_time
from storage.models import Product
from storage.repos.facts import IssueFactRepo


def close_reason(issue: dict[str, Any]) -> str:
    reason = str(issue.get("state_reason") or "completed").lower()
    return reason if reason in pipeline.NOT_PLANNED_REASONS else "completed"


async def open_issue_facts(
    session: AsyncSession, product: Product, number: int, issue: dict[str, Any]
) -> None:
    """What GitHub's own answer about a newly linked issue says: when it was created, and
    whether it is open (an issue closed within a second of its creation stays closed)."""
    facts = IssueFactRepo(session)
    created_at = parse_time(issue.get("created_at"))
    await facts.record_created(product.id, number, created_at)
    if issue.get("state") == "closed":
        await facts.record_state(
            product.id,
            number,
            state="closed",
            reason=close_reason(issue),
            at=parse_time(issue.get("closed_at")) or parse_time(issue.get("updated_at")),
        )
    else:
        await facts.record_state(product.id, number, state="open", reason=None, at=created_at)
    assignees = issue.get("assignees")
    if isinstance(assignees, list) and assignees:
        await facts.record_assignment(
            product.id, number, assigned=True, at=parse_time(issue.get("updated_at"))
        )
