"""What the tracking view says about each stage, as a table: history -> reached (with the step
whose time it carries), skipped, pending or current. No I/O (bot.rules.progress)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pytest

from bot.rules.pipeline import STAGES, ClosedReason, Stage
from bot.rules.progress import StageState, progress

T0 = dt.datetime(2026, 3, 24, 8, 0, tzinfo=dt.UTC)
R, IC, FIP, PR, CR, M, D, C = STAGES


class Step(NamedTuple):
    to_stage: str
    at: dt.datetime
    reason: str | None = None


def at(index: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=index)


def history(*stages: Stage | tuple[Stage, str]) -> list[Step]:
    """One step a minute; ``(CLOSED, "not_planned")`` carries a reason."""
    steps = []
    for index, entry in enumerate(stages):
        stage, reason = entry if isinstance(entry, tuple) else (entry, None)
        steps.append(Step(stage.value, at(index), reason))
    return steps


def drawn(current: Stage, steps: list[Step]) -> list[str]:
    """Each stage as a short code: ``r3`` reached at step 3's time, ``c3`` current since step 3,
    ``s`` skipped, ``p`` pending."""
    codes = []
    for entry in progress(current, steps):
        letter = entry.state.value[0]
        if entry.at is None:
            codes.append(letter)
        else:
            codes.append(f"{letter}{int((entry.at - T0).total_seconds() // 60)}")
    return codes


def last(steps: list[Step]) -> Stage:
    return Stage(steps[-1].to_stage)


# Columns: RECEIVED, ISSUE_CREATED, FIX_IN_PROGRESS, PR_OPEN, CHANGES_REQUESTED, MERGED,
# DEPLOYED, CLOSED.
CASES = {
    "just received": (
        history(R),
        ["c0", "p", "p", "p", "p", "p", "p", "p"],
    ),
    "issue created": (
        history(R, IC),
        ["r0", "c1", "p", "p", "p", "p", "p", "p"],
    ),
    "assigned": (
        history(R, IC, FIP),
        ["r0", "r1", "c2", "p", "p", "p", "p", "p"],
    ),
    "a ready PR without an assignment implies the fix was in progress": (
        history(R, IC, PR),
        ["r0", "r1", "r2", "c2", "p", "p", "p", "p"],
    ),
    "changes requested is current while at it": (
        history(R, IC, FIP, PR, CR),
        ["r0", "r1", "r2", "r3", "c4", "p", "p", "p"],
    ),
    "back to review after a round: the round happened, the PR was open since step 3": (
        history(R, IC, FIP, PR, CR, PR),
        ["r0", "r1", "r2", "c5", "r4", "p", "p", "p"],
    ),
    "a second round carries the latest round's time": (
        history(R, IC, FIP, PR, CR, PR, CR),
        ["r0", "r1", "r2", "r3", "c6", "p", "p", "p"],
    ),
    "merged without a round: changes requested was skipped": (
        history(R, IC, FIP, PR, M),
        ["r0", "r1", "r2", "r3", "s", "c4", "p", "p"],
    ),
    "merged after a round": (
        history(R, IC, FIP, PR, CR, PR, M),
        ["r0", "r1", "r2", "r3", "r4", "c6", "p", "p"],
    ),
    "merged straight from changes requested": (
        history(R, IC, PR, CR, M),
        ["r0", "r1", "r2", "r2", "r3", "c4", "p", "p"],
    ),
    "deployed": (
        history(R, IC, FIP, PR, M, D),
        ["r0", "r1", "r2", "r3", "s", "r4", "c5", "p"],
    ),
    "a deployment (or a maintainer's label) implies the fix stages, at its own time": (
        history(R, IC, D),
        ["r0", "r1", "r2", "r2", "s", "r2", "c2", "p"],
    ),
    "closed with the fix live": (
        history(R, IC, FIP, PR, M, D, (C, "fixed")),
        ["r0", "r1", "r2", "r3", "s", "r4", "r5", "c6"],
    ),
    "closed as not planned from ISSUE_CREATED: every fix stage skipped": (
        history(R, IC, (C, "not_planned")),
        ["r0", "r1", "s", "s", "s", "s", "s", "c2"],
    ),
    "closed as not planned while in progress: merged and deployed skipped": (
        history(R, IC, FIP, (C, "not_planned")),
        ["r0", "r1", "r2", "s", "s", "s", "s", "c3"],
    ),
    "closed as not planned during review: the round stays, merge and deploy skipped": (
        history(R, IC, PR, CR, (C, "not_planned")),
        ["r0", "r1", "r2", "r2", "r3", "s", "s", "c4"],
    ),
    "closed by support from RECEIVED: no issue, no fix": (
        history(R, (C, "support")),
        ["r0", "s", "s", "s", "s", "s", "s", "c1"],
    ),
    "merged where deployments are not tracked, then closed": (
        history(R, IC, PR, M, (C, "fixed")),
        ["r0", "r1", "r2", "r2", "s", "r3", "s", "c4"],
    ),
    "regression: reopened after deployment, the fix stages are pending again": (
        history(R, IC, FIP, PR, M, D, (C, "fixed"), IC),
        ["r0", "c7", "p", "p", "p", "p", "p", "p"],
    ),
    "second fix after a regression carries the second fix's times": (
        history(R, IC, FIP, PR, M, D, (C, "fixed"), IC, FIP, PR),
        ["r0", "r1", "r8", "c9", "p", "p", "p", "p"],
    ),
    "unmerged close back to FIX_IN_PROGRESS undoes the review and its round": (
        history(R, IC, FIP, PR, CR, FIP),
        ["r0", "r1", "c5", "p", "p", "p", "p", "p"],
    ),
    "a new PR after an unmerged close starts a new run": (
        history(R, IC, PR, CR, FIP, PR),
        ["r0", "r1", "r2", "c5", "p", "p", "p", "p"],
    ),
    "a maintainer moving a closed ticket back to MERGED": (
        history(R, IC, PR, M, D, (C, "fixed"), M),
        ["r0", "r1", "r2", "r2", "s", "c6", "p", "p"],
    ),
    "a staff link to an issue already merged": (
        history(R, IC, M),
        ["r0", "r1", "r2", "r2", "s", "c2", "p", "p"],
    ),
}


@pytest.mark.parametrize(("steps", "expected"), CASES.values(), ids=CASES.keys())
def test_each_stage_is_drawn_as_the_history_tells_it(steps, expected):
    assert drawn(last(steps), steps) == expected


@pytest.mark.parametrize(
    ("steps", "rounds"),
    [
        (history(R, IC, PR), 0),
        (history(R, IC, PR, CR), 1),
        (history(R, IC, PR, CR, PR, CR), 2),
        (history(R, IC, PR, CR, PR, CR, PR), 2),
        (history(R, IC, PR, CR, PR, CR, PR, M, D), 2),
        (history(R, IC, PR, CR, FIP), 0),  # an unmerged close ends the run
        (history(R, IC, PR, CR, FIP, PR, CR), 1),
        (history(R, IC, PR, CR, M, D, (C, "fixed"), IC), 0),  # a reopen ends it too
    ],
)
def test_rounds_count_the_changes_requested_in_the_current_run(steps, rounds):
    loop = progress(last(steps), steps)[4]
    assert loop.stage is CR and loop.rounds == rounds
    others = [entry.rounds for entry in progress(last(steps), steps) if entry.stage is not CR]
    assert others == [0] * 7


@pytest.mark.parametrize("reason", list(ClosedReason))
def test_closed_carries_the_reason_of_the_step_that_closed(reason):
    closed = progress(C, history(R, IC, (C, reason.value)))[-1]
    assert closed.state is StageState.CURRENT and closed.reason is reason


def test_a_reason_is_shown_only_while_closed_and_only_the_last_close_counts():
    reopened = history(R, IC, (C, "not_planned"), IC)
    assert progress(IC, reopened)[-1].reason is None
    closed_again = [*reopened, Step(C.value, at(4), "support")]
    assert progress(C, closed_again)[-1].reason is ClosedReason.SUPPORT
    old_row = [*reopened, Step(C.value, at(4), None)]  # a row no backfill could explain
    assert progress(C, old_row)[-1].reason is None


def test_an_unknown_reason_is_no_reason():
    assert progress(C, history(R, (C, "bored")))[-1].reason is None


def test_the_stored_stage_wins_when_the_history_says_more():
    # Nothing above the ticket's stage is claimed, whatever a stray row says.
    steps = history(R, IC, PR, M)
    assert drawn(IC, steps) == ["r0", "c1", "p", "p", "p", "p", "p", "p"]


def test_no_history_still_shows_the_current_stage():
    assert drawn(R, []) == ["c", "p", "p", "p", "p", "p", "p", "p"]


def test_a_skipped_or_pending_stage_never_has_a_time_and_a_reached_one_always_does():
    for steps, _ in CASES.values():
        for entry in progress(last(steps), steps):
            assert (entry.at is None) is (entry.state in (StageState.SKIPPED, StageState.PENDING))
