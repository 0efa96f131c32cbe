"""How a ticket is shown to the public: the stage, the pipeline and the history, nothing private.

``load_public_view`` is the one loader behind both GET /api/tickets/{publicId} and the
tracking page, so the page shows exactly what the API shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from bot.errors import ApiError
from bot.rules import ids
from bot.rules.pipeline import STAGE_DESCRIPTIONS, STAGE_TITLES, STAGES, ClosedReason, Stage
from bot.rules.progress import LOOP, HistoryStep, StageState, progress
from bot.rules.public_names import public_author
from bot.views.timefmt import iso_ms
from storage.reader import Reader
from storage.reads import tracking
from storage.reads.tracking import PublicComment, Step, TrackedTicket

IsoWriter = Callable[[dt.datetime], str | None]


class _IsoTimes(dict[dt.datetime, str | None]):
    """``iso_ms`` of each instant of one view, written once: a stage reached by a step is at
    that step's own instant, so the pipeline and the history repeat most of them (formatting
    them was a third of building a tracking view; bench/README.md, "Reads")."""

    def __missing__(self, at: dt.datetime) -> str | None:
        text = self[at] = iso_ms(at)
        return text


# Where a tracking token may arrive instead of ``?token=`` (kept out of URLs and logs).
TOKEN_HEADER = "X-Tracking-Token"
TICKET_NOT_FOUND = "Ticket not found"


def pipeline_view(
    current: Stage, history: Sequence[HistoryStep], *, iso: IsoWriter = iso_ms
) -> list[dict[str, Any]]:
    """All 8 stages in order, each ``reached``, ``skipped``, ``pending`` or ``current`` as
    the history tells it (``bot.rules.progress``). ``reached`` stays a boolean (true when
    reached or current) and ``reachedAt`` is set only when the stage really happened.
    CHANGES_REQUESTED is the review step's loop (``loop``, with its ``rounds``); the CLOSED
    entry says why (``closedReason`` and its text)."""
    entries = progress(current, history)
    deployed = entries[_DEPLOYED_INDEX].state in _HAPPENED
    view = []
    for entry in entries:
        stage = entry.stage
        name, title, description, loop = _STAGE_FIELDS[stage]
        state = entry.state
        happened = state in _HAPPENED
        item: dict[str, Any] = {
            "stage": name,
            "title": title,
            "description": description,
            "state": _STATE_NAMES[state],
            "reached": happened,
            "reachedAt": iso(entry.at) if happened and entry.at else None,
            "current": state is StageState.CURRENT,
            "loop": loop,
        }
        if loop:
            item["rounds"] = entry.rounds
        if stage is Stage.CLOSED:
            reason = entry.reason
            item["closedReason"] = reason.value if reason else None
            item["closedReasonText"] = closed_reason_text(reason, deployed=deployed)
        view.append(item)
    return view


# What ``pipeline_view`` writes of each stage and state, worked out once: the enums' ``value``
# and ``STAGE_TITLES`` lookups were a fifth of a tracking read's CPU (bench/README.md, "Reads").
_STAGE_FIELDS = {
    stage: (stage.value, STAGE_TITLES[stage], STAGE_DESCRIPTIONS[stage], stage is LOOP)
    for stage in STAGES
}
_STATE_NAMES = {state: state.value for state in StageState}
_HAPPENED = frozenset({StageState.REACHED, StageState.CURRENT})  # StageProgress.happened
_DEPLOYED_INDEX = STAGES.index(Stage.DEPLOYED)


# What the CLOSED entry says about why; ``fixed`` says how far the fix went.
CLOSED_REASON_TEXTS = {
    ClosedReason.FIXED: "Fixed and deployed",
    ClosedReason.COMPLETED: "Closed as completed",
    ClosedReason.NOT_PLANNED: "Closed as not planned",
    ClosedReason.DUPLICATE: "Closed as a duplicate",
    ClosedReason.SUPPORT: "Closed by support",
    ClosedReason.MAINTAINER: "Closed by a maintainer",
}
FIXED_WITHOUT_DEPLOYMENT = "Fixed and merged"


def closed_reason_text(reason: ClosedReason | None, *, deployed: bool) -> str | None:
    if reason is ClosedReason.FIXED and not deployed:
        return FIXED_WITHOUT_DEPLOYMENT  # a product that does not track deployments
    return CLOSED_REASON_TEXTS.get(reason) if reason else None


def loop_text(rounds: int) -> str:
    """The review loop as the status comment writes it: "↺ Changes requested, 2 rounds"."""
    return f"↺ {STAGE_TITLES[LOOP]}, {rounds} round{'' if rounds == 1 else 's'}"


def history_view(history: Sequence[Step], *, iso: IsoWriter = iso_ms) -> list[dict[str, Any]]:
    return [
        {
            "from": step.from_stage,
            "to": step.to_stage,
            "at": iso(step.at),
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
    iso = _IsoTimes().__getitem__
    view: dict[str, Any] = {
        "publicId": ids.public_id(ticket.id),
        "status": current.value,
        "pipeline": pipeline_view(current, history, iso=iso),
        "history": history_view(history, iso=iso),
        "createdAt": iso(ticket.created_at),
        "updatedAt": iso(ticket.updated_at),
    }
    if comments is not None:
        view["subject"] = ticket.subject
        view["comments"] = [
            {
                "body": c.body,
                "author": public_author(c.public_author),
                "createdAt": iso_ms(c.created_at),
                "fromSubmitter": c.from_submitter,
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
