"""How a ticket is shown to the public: the stage, the pipeline and the history, nothing private.

``load_public_view`` is the one loader behind both GET /api/tickets/{publicId} and the
tracking page, so the page shows exactly what the API shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.errors import ApiError
from bot.rules import ids
from bot.rules.pipeline import RANK, STAGE_DESCRIPTIONS, STAGE_TITLES, STAGES, Stage
from bot.rules.public_names import public_author
from bot.views.timefmt import iso_ms
from storage.reader import Reader
from storage.reads import tracking
from storage.reads.tracking import PublicComment, Step, TrackedTicket

# Where a tracking token may arrive instead of ``?token=`` (kept out of URLs and logs).
TOKEN_HEADER = "X-Tracking-Token"
TICKET_NOT_FOUND = "Ticket not found"


def pipeline_view(current: Stage, history: Sequence[Step]) -> list[dict[str, Any]]:
    """All 8 stages in order. A stage is reached if the ticket is at it or past it
    (CHANGES_REQUESTED only if it was really entered); ``reachedAt`` is when it last was."""
    entered_at: dict[Stage, dt.datetime] = {}
    for step in history:
        stage = Stage(step.to_stage)
        if RANK[stage] <= RANK[current]:
            entered_at[stage] = step.at
    view = []
    for stage in STAGES:
        passed = RANK[stage] < RANK[current] and stage is not Stage.CHANGES_REQUESTED
        reached = stage is current or stage in entered_at or passed
        view.append(
            {
                "stage": stage.value,
                "title": STAGE_TITLES[stage],
                "description": STAGE_DESCRIPTIONS[stage],
                "reached": reached,
                "reachedAt": iso_ms(entered_at.get(stage)) if reached else None,
                "current": stage is current,
            }
        )
    return view


def history_view(history: Sequence[Step]) -> list[dict[str, Any]]:
    return [
        {
            "from": step.from_stage,
            "to": step.to_stage,
            "at": iso_ms(step.at),
            "description": step.description,
        }
        for step in history
    ]


def public_ticket(
    ticket: TrackedTicket,
    history: Sequence[Step],
    *,
    comments: Sequence[PublicComment] | None = None,
) -> dict[str, Any]:
    """The tracking view. ``comments`` is given only to a caller holding the tracking token,
    and then the subject is shown too."""
    current = Stage(ticket.stage)
    view: dict[str, Any] = {
        "publicId": ids.public_id(ticket.id),
        "status": current.value,
        "pipeline": pipeline_view(current, history),
        "history": history_view(history),
        "createdAt": iso_ms(ticket.created_at),
        "updatedAt": iso_ms(ticket.updated_at),
    }
    if comments is not None:
        view["subject"] = ticket.subject
        view["comments"] = [
            {
                "body": c.body,
                "author": public_author(c.public_author),
                "createdAt": iso_ms(c.created_at),
            }
            for c in comments
            if not c.internal
        ]
    return view


async def load_public_view(reader: Reader, public_id: str, token: str | None) -> dict[str, Any]:
    """The tracking view of one ticket; the subject and comments only with its token."""
    number = ids.parse_public_id(public_id)
    if number is None:
        raise ApiError(404, TICKET_NOT_FOUND, "A publicId looks like TK-00042.")
    # One statement for the ticket and its history: the poll every tracking page makes.
    ticket = await tracking.ticket_with_history(reader, number)
    if ticket is None:
        raise ApiError(404, TICKET_NOT_FOUND, "Check the publicId you were given.")
    comments = None
    if ids.secrets_match(token, ticket.tracking_token_hash):
        comments = await tracking.public_comments(reader, ticket.id)
    return public_ticket(ticket, ticket.transitions, comments=comments)
