"""Desk status (open, pending, resolved, closed) versus the pipeline stage: pure rules, no I/O.

The stage follows GitHub; the status is what support staff work with. They meet here:

| stage change (from GitHub)            | desk status becomes                              |
| ------------------------------------- | ------------------------------------------------ |
| -> DEPLOYED                           | ``resolved`` (resolved_at is set)                |
| -> CLOSED                             | ``closed`` (resolved_at kept if it was resolved) |
| -> any earlier stage, while resolved  | ``open`` (work resumed: a reopen; resolved_at    |
|    or closed                          | cleared)                                         |
| -> any earlier stage, while open or   | unchanged (``pending`` is staff's to clear)      |
|    pending                            |                                                  |

| staff sets status | effect                                                                 |
| ----------------- | ---------------------------------------------------------------------- |
| ``open``          | status only; resolved_at cleared; the stage is not touched             |
| ``pending``       | status only (waiting on the submitter); resolved_at cleared            |
| ``resolved``      | resolved_at = now; the stage is not touched                            |
| ``closed``        | stage -> CLOSED with a transition (cause ``staff.closed``)             |

Staff changes never call GitHub. A ticket staff closed or deleted before its GitHub issue
was opened wants none any more (``unwanted_issue_reason``): the pending job is dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from bot.rules.pipeline import Stage


class DeskStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


DESK_STATUSES: tuple[str, ...] = tuple(s.value for s in DeskStatus)
FINISHED = frozenset({DeskStatus.RESOLVED.value, DeskStatus.CLOSED.value})

STAFF_CLOSED_CAUSE = "staff.closed"


def status_for_stage_change(current_status: str, new_stage: str) -> str:
    """The desk status after the pipeline moved to ``new_stage``.

    Called by the GitHub pipeline code whenever a ticket's stage changes.
    """
    stage = Stage(new_stage)
    if stage is Stage.CLOSED:
        return DeskStatus.CLOSED.value
    if stage is Stage.DEPLOYED:
        return DeskStatus.RESOLVED.value
    if current_status in FINISHED:
        # The fix went live or the ticket was closed, yet GitHub work is moving again.
        return DeskStatus.OPEN.value
    return current_status


def resolved_at_for(
    old_status: str, new_status: str, resolved_at: dt.datetime | None, now: dt.datetime
) -> dt.datetime | None:
    """When a ticket counts as resolved: stamped on becoming resolved, kept through closing,
    forgotten when it is reopened."""
    if new_status == DeskStatus.RESOLVED.value:
        return resolved_at if old_status == DeskStatus.RESOLVED.value and resolved_at else now
    if new_status == DeskStatus.CLOSED.value:
        return resolved_at
    return None


@dataclasses.dataclass(frozen=True)
class StaffStatusChange:
    """What staff setting a status does to a ticket."""

    status: str
    resolved_at: dt.datetime | None
    close_stage: bool  # move the stage to CLOSED (with a staff.closed transition)


def staff_status_change(
    *,
    current_status: str,
    current_stage: str,
    resolved_at: dt.datetime | None,
    new_status: str,
    now: dt.datetime,
) -> StaffStatusChange:
    """Staff set ``new_status``: the resulting status, resolved_at and stage move."""
    status = DeskStatus(new_status).value
    return StaffStatusChange(
        status=status,
        resolved_at=resolved_at_for(current_status, status, resolved_at, now),
        close_stage=status == DeskStatus.CLOSED.value and current_stage != Stage.CLOSED.value,
    )


def unwanted_issue_reason(*, stage: str, deleted: bool) -> str | None:
    """Why a ticket no longer wants the GitHub issue TinyDesk has not opened yet, as the
    end of a staff note ("No GitHub issue was opened: <reason> …"); None while it does."""
    if deleted:
        return "the ticket was deleted"
    if stage == Stage.CLOSED.value:
        return "the ticket was closed"
    return None
