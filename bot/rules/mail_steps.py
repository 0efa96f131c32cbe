"""Which steps of a ticket its submitter is mailed about, in what words, and how often one
address may be mailed (pure).

Mailed: intake, each public staff comment, and the stage changes a submitter cares about:
the issue logged with the developers, a fix in progress, the fix merged, the fix live, the
ticket closed (with its reason in words) and reopened (leaving CLOSED). Pull-request review
steps (PR_OPEN, CHANGES_REQUESTED) are the developers' business and are not mailed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.rules.pipeline import ClosedReason, Stage

CREATED = "created"
STAGE = "stage"
COMMENT = "comment"

STAGE_LINES = {
    Stage.ISSUE_CREATED: "We've logged it with the developers.",
    Stage.FIX_IN_PROGRESS: "A developer is working on a fix.",
    Stage.MERGED: "The fix has been merged; it goes live with the next release.",
    Stage.DEPLOYED: "Your fix is live.",
}
REOPENED_LINE = "Your ticket was reopened; we're looking at it again."
CLOSED_LINES = {
    ClosedReason.FIXED: "Closed: fixed, and the fix is live.",
    ClosedReason.COMPLETED: "Closed: completed.",
    ClosedReason.NOT_PLANNED: "Closed: not planned. See what support said on the tracking page.",
    ClosedReason.DUPLICATE: "Closed: a duplicate of another ticket.",
    ClosedReason.SUPPORT: "Closed by support.",
    ClosedReason.MAINTAINER: "Closed by a maintainer.",
}
CLOSED_LINE = "Your ticket was closed."
RECEIVED_LINE = "We've received your ticket."

MAILED_STAGES = frozenset(STAGE_LINES) | {Stage.CLOSED}
RATE_WINDOW = dt.timedelta(hours=1)


def step_is_mailed(from_stage: str | None, to_stage: str) -> bool:
    """Whether the submitter is told of a step from ``from_stage`` to ``to_stage``."""
    if from_stage is None:
        return False  # intake has a mail of its own
    if from_stage == Stage.CLOSED and to_stage != Stage.CLOSED:
        return True  # reopened
    return to_stage in MAILED_STAGES and to_stage != from_stage


def step_line(from_stage: str | None, to_stage: str, reason: str | None) -> str:
    """The step in one sentence for the submitter."""
    if from_stage == Stage.CLOSED and to_stage != Stage.CLOSED:
        return REOPENED_LINE
    if to_stage == Stage.CLOSED:
        try:
            return CLOSED_LINES[ClosedReason(reason)] if reason else CLOSED_LINE
        except ValueError:
            return CLOSED_LINE
    if to_stage == Stage.RECEIVED:
        return RECEIVED_LINE
    try:
        return STAGE_LINES.get(Stage(to_stage), f"Now at {to_stage}.")
    except ValueError:
        return f"Now at {to_stage}."


def subject(public_id: str, ticket_subject: str, *, first: bool, headline: str | None) -> str:
    """``[TK-00042] Login fails`` for the first mail; later ones say what happened."""
    short = " ".join(ticket_subject.split())[:120]
    if first:
        return f"[{public_id}] {short}"
    return f"[{public_id}] {headline} ({short})" if headline else f"Re: [{public_id}] {short}"


def rate_limit_wait(
    sent_at: Sequence[dt.datetime], now: dt.datetime, limit: int
) -> dt.timedelta | None:
    """How long a mail to an address that got mails at ``sent_at`` must wait under ``limit``
    mails an hour (0: no limit); None: it may go now."""
    if limit <= 0:
        return None
    recent = sorted(at for at in sent_at if now - at < RATE_WINDOW)
    if len(recent) < limit:
        return None
    # The mail may go once enough of the recent ones have aged out of the window.
    frees_at = recent[len(recent) - limit] + RATE_WINDOW
    return max(frees_at - now, dt.timedelta(seconds=1))
