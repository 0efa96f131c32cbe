"""Helpers for the page tests: tickets, stage moves and comments written straight to the database,
as the GitHub bridge and the desk API will write them."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from bot.rules import ids
from bot.tickets.intake import open_ticket
from storage.database import Database
from storage.models import Comment, StageTransition, Ticket
from storage.repos.products import ProductRepo
from storage.types import utcnow

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def open_test_ticket(
    db: Database, product_slug: str | None = "my-saas-app", **fields
) -> tuple[str, str]:
    """Store a ticket at RECEIVED; returns its publicId and tracking token."""
    values = {
        "subject": "Login button unresponsive on Safari",
        "body": "Steps: open Safari 17, click Sign In.",
        "email": "agent@example.com",
        "submitter_name": "AI Agent v2",
        **fields,
    }
    async with db.begin() as session:
        product = await ProductRepo(session).by_slug(product_slug) if product_slug else None
        opened = await open_ticket(session, product=product, **values)
    return ids.public_id(opened.ticket.id), opened.tracking_token


async def move_ticket(
    db: Database,
    public_id: str,
    *stages: str,
    at: dt.datetime | None = None,
    reason: str | None = None,
) -> None:
    """Move a ticket through ``stages`` in order, recording each step in its history
    (``reason``: why a step to CLOSED closed it, e.g. ``not_planned``)."""
    number = ids.parse_public_id(public_id)
    async with db.begin() as session:
        ticket = await session.get(Ticket, number)
        assert ticket is not None
        current = ticket.stage
        for stage in stages:
            when = at or utcnow()
            session.add(
                StageTransition(
                    ticket_id=number,
                    from_stage=current,
                    to_stage=stage,
                    at=when,
                    cause="test",
                    description=f"Moved to {stage} by a test",
                    reason=reason if stage == "CLOSED" else None,
                )
            )
            current = stage
        await session.execute(
            update(Ticket).where(Ticket.id == number).values(stage=current, updated_at=utcnow())
        )


async def add_comment(
    db: Database,
    public_id: str,
    body: str,
    *,
    internal: bool = False,
    author: str = "sam@acme.example",
    public_author: str | None = "Sam from Support",
) -> None:
    async with db.begin() as session:
        session.add(
            Comment(
                desk_id=ids.new_desk_id("cmt"),
                ticket_id=ids.parse_public_id(public_id),
                body=body,
                internal=internal,
                author=author,
                public_author=public_author,
            )
        )


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token in the page"
    return match.group(1)


STEP = re.compile(
    r'<li class="step is-(\w+)(?: step-loop)?" data-stage="(\w+)"( aria-current="step")?>'
)


def steps(page: str) -> dict[str, tuple[str, bool]]:
    """Each stage of a tracking page's stepper: its drawn state and whether it carries
    aria-current."""
    return {stage: (state, bool(current)) for state, stage, current in STEP.findall(page)}
