"""What a ticket's history says about each of the 8 stages: reached (and when), skipped,
pending or current. Pure: the tracking page, the public API and the GitHub status comment
all draw this one answer (``bot.views.public.pipeline_view``).

The history is walked in order. Entering a stage records its time and undoes what was
recorded for the stages ranked above it, so a reopen (back to ISSUE_CREATED) or the unmerged
close of the last PR (back to FIX_IN_PROGRESS) makes the later stages pending again. The one
exception is the review loop: back to PR_OPEN (an approval, new commits) keeps the rounds of
changes requested in this run; only a stage before the review ends the run.

Some steps imply earlier ones that have no step of their own: work on a pull request means a
fix is in progress, a merge or a deployment means a pull request was open, a deployment means
a merge, and any stage on GitHub means the issue exists. They count as reached at the time of
the step that implied them. CLOSED implies nothing: a ticket closed as not planned (or by
support from RECEIVED) went past the fix stages without them happening, so they are skipped.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from bot.rules.pipeline import RANK, STAGES, ClosedReason, Stage


class StageState(enum.StrEnum):
    REACHED = "reached"
    SKIPPED = "skipped"  # the ticket went past it without it happening
    PENDING = "pending"  # not yet
    CURRENT = "current"


class HistoryStep(Protocol):
    """One stored step, as ``storage`` gives it (a StageTransition or a tracking read)."""

    @property
    def to_stage(self) -> str: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def reason(self) -> str | None: ...


class StageProgress(NamedTuple):
    """One stage as the history tells it (a NamedTuple: eight are made for every tracking
    read, and a frozen dataclass costs several times as much to make)."""

    stage: Stage
    state: StageState
    # When it happened (reached or current); None when it did not, in this run.
    at: dt.datetime | None = None
    # CHANGES_REQUESTED: how many times changes were requested in the current run.
    rounds: int = 0
    # CLOSED: why, when the ticket is closed.
    reason: ClosedReason | None = None

    @property
    def happened(self) -> bool:
        return self.state in (StageState.REACHED, StageState.CURRENT)


LOOP = Stage.CHANGES_REQUESTED

# What entering a stage says about the stages before it (CLOSED says nothing).
IMPLIES: dict[Stage, tuple[Stage, ...]] = {
    Stage.RECEIVED: (),
    Stage.ISSUE_CREATED: (Stage.RECEIVED,),
    Stage.FIX_IN_PROGRESS: (Stage.RECEIVED, Stage.ISSUE_CREATED),
    Stage.PR_OPEN: (Stage.RECEIVED, Stage.ISSUE_CREATED, Stage.FIX_IN_PROGRESS),
    Stage.CHANGES_REQUESTED: (
        Stage.RECEIVED,
        Stage.ISSUE_CREATED,
        Stage.FIX_IN_PROGRESS,
        Stage.PR_OPEN,
    ),
    Stage.MERGED: (Stage.RECEIVED, Stage.ISSUE_CREATED, Stage.FIX_IN_PROGRESS, Stage.PR_OPEN),
    Stage.DEPLOYED: (
        Stage.RECEIVED,
        Stage.ISSUE_CREATED,
        Stage.FIX_IN_PROGRESS,
        Stage.PR_OPEN,
        Stage.MERGED,
    ),
    Stage.CLOSED: (Stage.RECEIVED,),
}


def _undone_by(entered: Stage, stage: Stage) -> bool:
    """Entering ``entered`` makes ``stage`` not have happened in the current run."""
    if stage is LOOP and entered is Stage.PR_OPEN:
        return False  # back to review after a round: the same run
    return RANK[stage] > RANK[entered]


# ``_undone_by`` as tables, and stages by their stored names: every tracking read walks a
# history through them (a call, an enum lookup and a dataclass per stage cost more than the
# read itself; bench/README.md, "Reads").
UNDONE: dict[Stage, frozenset[Stage]] = {
    entered: frozenset(s for s in STAGES if _undone_by(entered, s)) for entered in STAGES
}
_BY_NAME: dict[str, Stage] = {stage.value: stage for stage in STAGES}
_REASON_BY_NAME: dict[str, ClosedReason] = {reason.value: reason for reason in ClosedReason}
_PENDING_AFTER = {
    current: {stage: RANK[stage] >= RANK[current] for stage in STAGES} for current in STAGES
}


def progress(current: Stage, history: Sequence[HistoryStep]) -> tuple[StageProgress, ...]:
    """Each of the 8 stages, in order, as the history (oldest first) tells it."""
    reached: dict[Stage, dt.datetime] = {}
    rounds = 0
    reason: ClosedReason | None = None
    entered_current: dt.datetime | None = None
    for step in history:
        stage = _BY_NAME.get(step.to_stage) or Stage(step.to_stage)
        undone = UNDONE[stage]
        for earlier in [s for s in reached if s in undone]:
            del reached[earlier]
        if LOOP in undone:
            rounds = 0
        at = step.at
        if stage is LOOP:
            rounds += 1
            reached[stage] = at  # the latest round
        elif stage not in reached:
            reached[stage] = at
        for implied in IMPLIES[stage]:
            if implied not in reached:
                reached[implied] = at
        if stage is Stage.CLOSED:
            reason = _REASON_BY_NAME.get(step.reason) if isinstance(step.reason, str) else None
        entered_current = at if stage is current else None
    # The stored stage is the truth if a history ever disagrees: nothing above it happened.
    undone = UNDONE[current]
    for stage in [s for s in reached if s is not current and s in undone]:
        del reached[stage]
    if LOOP in undone:
        rounds = 0
    pending = _PENDING_AFTER[current]
    entries = []
    for stage in STAGES:
        at_or_none: dt.datetime | None
        if stage is current:
            # Current since it was last entered (the history's last step, normally).
            state, at_or_none = StageState.CURRENT, entered_current or reached.get(stage)
        elif stage in reached:
            state, at_or_none = StageState.REACHED, reached[stage]
        else:
            state = StageState.PENDING if pending[stage] else StageState.SKIPPED
            at_or_none = None
        entries.append(
            StageProgress(
                stage,
                state,
                at_or_none,
                rounds if stage is LOOP else 0,
                reason if stage is Stage.CLOSED and current is Stage.CLOSED else None,
            )
        )
    return tuple(entries)
