"""The pipeline's rules, as a table: (stage, event) -> where the ticket goes. No I/O."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules.pipeline import (
    STAGES,
    Decision,
    Fact,
    Signal,
    Stage,
    TicketState,
    decide,
    describe,
    stage_for_label,
)

T0 = dt.datetime(2026, 3, 24, 8, 0, tzinfo=dt.UTC)
EARLIER = T0 - dt.timedelta(minutes=5)
LATER = T0 + dt.timedelta(minutes=5)

R, IC, FIP, PR, CR, M, D, C = STAGES


def go(stage: Stage, fact: Fact, **kw) -> tuple[Stage, ...]:
    state_kw = {
        k: kw.pop(k) for k in ("issue_closed", "deployment_tracking", "stage_event_at") if k in kw
    }
    state = TicketState(stage, stage_event_at=state_kw.pop("stage_event_at", T0), **state_kw)
    return decide(state, Signal(fact, occurred_at=kw.pop("occurred_at", LATER), **kw)).steps


# The happy path, one event at a time.
@pytest.mark.parametrize(
    ("stage", "fact", "expected"),
    [
        (R, Fact.ISSUE_OPENED, (IC,)),
        (IC, Fact.ISSUE_ASSIGNED, (FIP,)),
        (IC, Fact.DRAFT_PR_LINKED, (FIP,)),
        (IC, Fact.PR_LINKED, (PR,)),
        (FIP, Fact.PR_LINKED, (PR,)),
        (PR, Fact.CHANGES_REQUESTED, (CR,)),
        (CR, Fact.REVIEW_APPROVED, (PR,)),
        (CR, Fact.REVIEW_DISMISSED, (PR,)),
        (CR, Fact.PR_UPDATED, (PR,)),
        (PR, Fact.PR_MERGED, (M,)),
        (CR, Fact.PR_MERGED, (M,)),
        (M, Fact.DEPLOYED, (D,)),
        (D, Fact.ISSUE_CLOSED_COMPLETED, (C,)),
        (M, Fact.ISSUE_CLOSED_COMPLETED, ()),
    ],
)
def test_each_stage_is_entered_by_its_event(stage, fact, expected):
    assert go(stage, fact) == expected


# Late or repeated forward events never move a ticket back.
@pytest.mark.parametrize(
    "fact",
    [
        Fact.ISSUE_OPENED,
        Fact.ISSUE_ASSIGNED,
        Fact.DRAFT_PR_LINKED,
        Fact.PR_LINKED,
        Fact.CHANGES_REQUESTED,
        Fact.PR_MERGED,
        Fact.DEPLOYED,
    ],
)
@pytest.mark.parametrize("stage", STAGES)
def test_forward_events_only_move_forward(stage, fact):
    steps = go(stage, fact)
    if steps:
        from bot.rules.pipeline import RANK

        assert RANK[steps[-1]] > RANK[stage]
        assert stage is not C


def test_repeated_events_are_no_ops():
    assert go(PR, Fact.PR_LINKED) == ()
    assert go(M, Fact.PR_MERGED) == ()
    assert go(C, Fact.ISSUE_CLOSED_COMPLETED) == ()
    assert go(C, Fact.STAFF_CLOSED) == ()


def test_review_signals_only_leave_changes_requested():
    for stage in (IC, FIP, PR, M, D):
        for fact in (Fact.REVIEW_APPROVED, Fact.REVIEW_DISMISSED, Fact.PR_UPDATED):
            assert go(stage, fact) == ()


def test_backward_events_older_than_the_current_stage_are_ignored():
    assert go(CR, Fact.REVIEW_APPROVED, occurred_at=EARLIER) == ()
    assert go(D, Fact.ISSUE_REOPENED, occurred_at=EARLIER) == ()
    assert go(PR, Fact.PR_CLOSED_UNMERGED, occurred_at=EARLIER) == ()
    assert go(IC, Fact.ISSUE_CLOSED_NOT_PLANNED, occurred_at=EARLIER) == ()


def test_events_without_a_time_are_applied():
    assert go(CR, Fact.REVIEW_APPROVED, occurred_at=None) == (PR,)
    assert go(D, Fact.ISSUE_REOPENED, stage_event_at=None) == (IC,)


@pytest.mark.parametrize("stage", [FIP, PR, CR, M, D, C])
def test_reopening_the_issue_goes_back_to_issue_created(stage):
    assert go(stage, Fact.ISSUE_REOPENED) == (IC,)


def test_reopening_clears_a_pending_close():
    state = TicketState(M, stage_event_at=T0, issue_closed=True)
    assert decide(state, Signal(Fact.ISSUE_REOPENED, occurred_at=LATER)) == Decision(
        (IC,), issue_closed=False
    )


@pytest.mark.parametrize("stage", [PR, CR])
def test_unmerged_close_of_the_last_open_pr_goes_back_to_fix_in_progress(stage):
    assert go(stage, Fact.PR_CLOSED_UNMERGED) == (FIP,)
    assert go(stage, Fact.PR_CLOSED_UNMERGED, other_open_prs=True) == ()


@pytest.mark.parametrize("stage", [IC, FIP, M, D, C])
def test_unmerged_close_moves_nothing_outside_review(stage):
    assert go(stage, Fact.PR_CLOSED_UNMERGED) == ()


@pytest.mark.parametrize("stage", [R, IC, FIP, PR, CR, M, D])
def test_not_planned_closes_from_anywhere(stage):
    assert go(stage, Fact.ISSUE_CLOSED_NOT_PLANNED) == (C,)
    assert go(stage, Fact.STAFF_CLOSED) == (C,)


def test_closing_as_completed_waits_for_the_fix_to_be_deployed():
    state = TicketState(M, stage_event_at=T0)
    waiting = decide(
        state, Signal(Fact.ISSUE_CLOSED_COMPLETED, occurred_at=LATER, fix_pending=True)
    )
    assert waiting == Decision((), issue_closed=True)
    deployed = decide(
        TicketState(M, stage_event_at=LATER, issue_closed=True),
        Signal(Fact.DEPLOYED, occurred_at=LATER),
    )
    assert deployed == Decision((D, C), issue_closed=False)


def test_closing_as_completed_with_no_fix_known_closes_once_confirmed():
    """The merge that closed the issue may be delivered after the close: wait, then confirm."""
    state = TicketState(FIP, stage_event_at=T0)
    assert decide(state, Signal(Fact.ISSUE_CLOSED_COMPLETED, occurred_at=LATER)) == Decision(
        (), issue_closed=True
    )
    waiting = TicketState(FIP, stage_event_at=T0, issue_closed=True)
    assert decide(waiting, Signal(Fact.ISSUE_CLOSE_CONFIRMED)).steps == (C,)
    assert decide(waiting, Signal(Fact.ISSUE_CLOSE_CONFIRMED, fix_pending=True)).steps == ()
    assert (
        decide(TicketState(FIP, stage_event_at=T0), Signal(Fact.ISSUE_CLOSE_CONFIRMED)).steps == ()
    )
    merged = decide(
        TicketState(PR, stage_event_at=T0, issue_closed=True),
        Signal(Fact.PR_MERGED, occurred_at=LATER),
    )
    assert merged == Decision((M,), issue_closed=True)


def test_without_deployment_tracking_merged_then_closed():
    assert go(M, Fact.ISSUE_CLOSED_COMPLETED, deployment_tracking=False, fix_pending=True) == (C,)
    assert go(M, Fact.DEPLOYED, deployment_tracking=False) == ()
    state = TicketState(PR, stage_event_at=T0, issue_closed=True, deployment_tracking=False)
    assert decide(state, Signal(Fact.PR_MERGED, occurred_at=LATER)).steps == (M, C)


def test_maintainer_labels_set_the_stage_either_way():
    assert go(IC, Fact.LABEL_APPLIED, target=D) == (D,)
    assert go(D, Fact.LABEL_APPLIED, target=FIP) == (FIP,)
    assert go(D, Fact.LABEL_APPLIED, target=D) == ()
    assert go(D, Fact.LABEL_APPLIED, target=R) == ()


def test_label_names():
    assert stage_for_label("tinydesk:in-progress") is FIP
    assert stage_for_label(" TinyDesk:Deployed ") is D
    assert stage_for_label("bug") is None
    assert stage_for_label(None) is None


def test_descriptions_are_public_and_name_the_pr():
    assert describe(Fact.PR_LINKED, PR, pr=12) == "Pull request #12 opened"
    assert describe(Fact.DEPLOYED, D, environment="production") == "Deployed to production"
    assert describe(Fact.DEPLOYED, C) == "Deployed to production; issue already closed"
    assert describe(Fact.LABEL_APPLIED, FIP) == "Moved to fix in progress by a maintainer"
