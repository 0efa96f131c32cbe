"""The pipeline's rules as a pure function of GitHub's facts (bot/rules/pipeline.py). No I/O.

Three kinds of test: the rule table row by row; the issue's seven minimal cases, each as
the facts its deliveries leave behind; and a property test that random realistic journeys
end where an independent, event-by-event reading of the same journey in GitHub's order says.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rules.pipeline import (
    RULES,
    ClosedReason,
    IssueFacts,
    PullFacts,
    PullState,
    Review,
    Situation,
    Stage,
    TicketFacts,
    Verdict,
    changes_requested,
    counts_as_fix,
    decide,
    derive,
    describe,
    stage_for_label,
)

T0 = dt.datetime(2026, 3, 24, 8, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(days=1)


def t(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def ticket(*pulls: PullFacts, **issue) -> TicketFacts:
    tracking = issue.pop("tracking", True)
    staff = issue.pop("staff_closed_at", None)
    return TicketFacts(
        has_issue=True,
        issue=IssueFacts(**issue),
        pulls=pulls,
        staff_closed_at=staff,
        deployment_tracking=tracking,
    )


def stage(facts: TicketFacts, now: dt.datetime = NOW) -> Stage:
    return derive(facts, now).stage


def pr(number: int = 2, **kw) -> PullFacts:
    kw.setdefault("seen_at", t(1))
    return PullFacts(number=number, **kw)


R, IC, FIP, PR, CR, M, D, C = tuple(Stage)


# -- The rule table, row by row ---------------------------------------------------------


@pytest.mark.parametrize(
    ("situation", "expected", "reason"),
    [
        (Situation(has_issue=False), R, None),
        (Situation(has_issue=False, staff_closed=True), C, ClosedReason.SUPPORT),
        (Situation(staff_closed=True, merged=True), C, ClosedReason.SUPPORT),
        (Situation(label=C, fix_out=True), C, ClosedReason.MAINTAINER),
        (Situation(label=M, closed_as="not_planned"), M, None),
        (Situation(closed_as="not_planned", fix_out=True), C, ClosedReason.NOT_PLANNED),
        (Situation(closed_as="duplicate"), C, ClosedReason.DUPLICATE),
        (Situation(closed_as="completed", fix_out=True, merged=True), C, ClosedReason.FIXED),
        (Situation(closed_as="completed"), C, ClosedReason.COMPLETED),
        (Situation(closed_as="completed", grace_over=False), IC, None),
        (Situation(closed_as="completed", grace_over=False, assigned=True), FIP, None),
        (Situation(closed_as="completed", merged=True), M, None),
        (Situation(closed_as="completed", in_review=True), PR, None),
        (Situation(closed_as="completed", draft_open=True), FIP, None),
        (Situation(closed_as="completed", attempted=True), C, ClosedReason.COMPLETED),
        (Situation(fix_out=True, merged=True), D, None),
        (Situation(tracking=False, fix_out=True, merged=True), M, None),
        (Situation(merged=True, changes_requested=True), M, None),
        (Situation(changes_requested=True, assigned=True), CR, None),
        (Situation(in_review=True, assigned=True), PR, None),
        (Situation(draft_open=True), FIP, None),
        (Situation(attempted=True), FIP, None),
        (Situation(assigned=True), FIP, None),
        (Situation(), IC, None),
    ],
)
def test_each_row_of_the_table(situation, expected, reason):
    derived = decide(situation)
    assert (derived.stage, derived.reason) == (expected, reason), derived.rule


def test_every_row_of_the_table_decides_some_situation():
    """No row is dead: each is the first match for at least one combination of facts."""
    flags = [f.name for f in dataclasses.fields(Situation) if f.type in ("bool", bool)]
    used = set()
    for values in itertools.product([False, True], repeat=len(flags)):
        base = dict(zip(flags, values, strict=True))
        for extra in ({}, {"closed_as": "completed"}, {"closed_as": "not_planned"},
                      {"closed_as": "duplicate"}, {"label": M}, {"label": C}):
            used.add(decide(Situation(**base, **extra)).rule)
    assert used == {rule.name for rule in RULES}


def test_only_closed_stages_carry_a_reason():
    flags = ["staff_closed", "fix_out", "merged", "in_review", "assigned", "grace_over"]
    for values in itertools.product([False, True], repeat=len(flags)):
        for closed_as in (None, "completed", "not_planned"):
            facts = dict(zip(flags, values, strict=True))
            derived = decide(Situation(closed_as=closed_as, **facts))
            assert (derived.reason is not None) == (derived.stage is C)


# -- Reviews: GitHub's rule ---------------------------------------------------------------


def test_each_reviewers_latest_review_counts():
    asked = Review("ravi", Verdict.CHANGES_REQUESTED, t(2))
    approved = Review("ana", Verdict.APPROVED, t(3))
    assert changes_requested(pr(reviews=(asked, approved)))  # ravi still wants changes
    assert not changes_requested(pr(reviews=(Review("ravi", Verdict.APPROVED, t(4)),)))
    assert not changes_requested(pr(reviews=(Review("ravi", Verdict.DISMISSED, t(2)),)))


def test_a_push_after_a_request_for_changes_answers_it():
    asked = Review("ravi", Verdict.CHANGES_REQUESTED, t(2))
    assert not changes_requested(pr(reviews=(asked,), pushed_at=t(3)))
    assert changes_requested(pr(reviews=(asked,), pushed_at=t(1)))


def test_after_a_reopen_only_later_work_is_the_fix():
    merged_before = pr(state=PullState.MERGED, merged_at=t(5), seen_at=t(5))
    merged_after = pr(state=PullState.MERGED, merged_at=t(9), seen_at=t(9))
    open_untouched = pr(seen_at=t(4))
    assert counts_as_fix(merged_before, None)
    assert not counts_as_fix(merged_before, t(6))
    assert counts_as_fix(merged_after, t(6))
    assert not counts_as_fix(open_untouched, t(6))


# -- The issue's seven minimal cases, as the facts their deliveries leave ------------------
# Facts are kept per subject with GitHub's time, so the order of delivery is gone by the
# time ``derive`` reads them: these are the facts after all deliveries, in any order.


def test_case_1_changes_requested_then_approved_is_back_in_review():
    reviews = (Review("ravi", Verdict.APPROVED, t(3)),)  # the later review replaced the first
    assert stage(ticket(pr(reviews=reviews))) is PR


def test_case_1_after_new_commits_or_a_dismissal_or_an_unmerged_close():
    asked = Review("ravi", Verdict.CHANGES_REQUESTED, t(2))
    assert stage(ticket(pr(reviews=(asked,), pushed_at=t(3)))) is PR
    dismissed = Review("ravi", Verdict.DISMISSED, t(2))
    assert stage(ticket(pr(reviews=(dismissed,)))) is PR
    closed = pr(state=PullState.CLOSED, reviews=(asked,), seen_at=t(3))
    assert stage(ticket(closed)) is FIP


def test_case_2_the_newest_issue_state_wins():
    # not planned (t2), reopened (t3): the reopen is the newest state
    reopened = ticket(state="open", state_reason="reopened", state_at=t(3), reopened_at=t(3))
    assert stage(reopened) is IC
    # cr1 (t2), approved (t3), cr2 (t4): ravi's latest review is cr2
    cr2 = (Review("ravi", Verdict.CHANGES_REQUESTED, t(4)),)
    assert stage(ticket(pr(reviews=cr2))) is CR


def test_case_3_work_before_a_reopen_does_not_count():
    # assigned (t1), not planned (t2), reopened (t3)
    facts = ticket(
        state="open", state_reason="reopened", state_at=t(3), reopened_at=t(3),
        assigned=True, assigned_at=t(1),
    )
    assert stage(facts) is IC
    # a regression: the first fix merged (t2) and deployed (t3) before the reopen (t4)
    first_fix = pr(state=PullState.MERGED, merged_at=t(2), seen_at=t(2), shipped_at=t(3))
    regression = ticket(first_fix, state="open", state_reason="reopened", state_at=t(4),
                        reopened_at=t(4))
    assert stage(regression) is IC


def test_case_4_the_automatic_close_after_a_merge_closes_once_deployed():
    fix = pr(state=PullState.MERGED, merged_at=t(2), seen_at=t(2), shipped_at=t(4))
    facts = ticket(fix, state="closed", state_reason="completed", state_at=t(3))
    derived = derive(facts, NOW)
    assert (derived.stage, derived.reason) == (C, ClosedReason.FIXED)


def test_case_5_a_deployment_before_the_reopen_does_not_ship_the_second_fix():
    first = pr(2, state=PullState.MERGED, merged_at=t(2), seen_at=t(2), shipped_at=t(3))
    second = pr(5, state=PullState.MERGED, merged_at=t(6), seen_at=t(6))
    facts = ticket(first, second, state="open", state_reason="reopened", state_at=t(4),
                   reopened_at=t(4))
    assert stage(facts) is M


def test_case_6_a_second_fix_merged_after_a_regression_is_not_deployed_yet():
    first = pr(2, state=PullState.MERGED, merged_at=t(2), seen_at=t(2), shipped_at=t(4))
    second = pr(5, state=PullState.MERGED, merged_at=t(7), seen_at=t(7))
    facts = ticket(first, second, state="closed", state_reason="completed", state_at=t(8),
                   reopened_at=t(5))
    assert stage(facts) is M


def test_case_7_a_completed_close_waits_for_its_deadline_and_only_it():
    facts = ticket(state="closed", state_reason="completed", state_at=t(3),
                   grace_until=NOW + dt.timedelta(seconds=60))
    assert stage(facts, NOW) is IC  # waiting: the merge that caused it may be on its way
    assert stage(facts, NOW + dt.timedelta(seconds=60)) is C


# -- Other rules ------------------------------------------------------------------------


def test_without_deployment_tracking_the_merge_is_the_end():
    fix = pr(state=PullState.MERGED, merged_at=t(2), seen_at=t(2))
    assert stage(ticket(fix, tracking=False)) is M
    closed = ticket(fix, tracking=False, state="closed", state_reason="completed", state_at=t(3))
    assert derive(closed, NOW).reason is ClosedReason.FIXED


def test_a_maintainer_label_holds_until_something_newer_happens():
    labelled = ticket(pr(seen_at=t(1)), label=D, label_at=t(2))
    assert stage(labelled) is D
    pushed = ticket(pr(seen_at=t(3), pushed_at=t(3)), label=D, label_at=t(2))
    assert stage(pushed) is PR


def test_support_closing_holds_until_the_issue_is_reopened_later():
    facts = ticket(pr(), staff_closed_at=t(2))
    assert derive(facts, NOW).reason is ClosedReason.SUPPORT
    reopened = ticket(pr(), staff_closed_at=t(2), state_reason="reopened", state_at=t(3),
                      reopened_at=t(3))
    assert stage(reopened) is IC


def test_a_fix_up_for_review_beside_one_with_changes_requested_is_in_review():
    asked = (Review("ravi", Verdict.CHANGES_REQUESTED, t(2)),)
    assert stage(ticket(pr(2, reviews=asked), pr(3))) is PR
    assert stage(ticket(pr(2, reviews=asked), pr(3, draft=True))) is CR


def test_label_names():
    assert stage_for_label("tinydesk:merged") is M
    assert stage_for_label(" TinyDesk:Closed ") is C
    assert stage_for_label("bug") is None and stage_for_label(None) is None


def test_history_wording_says_what_happened():
    assert describe("pull_request.ready_for_review", PR, pr=2) == (
        "Pull request #2 marked ready for review"
    )
    assert describe("issues.closed", C, detail="not_planned") == "Issue closed as not planned"
    assert describe("pull_request.closed", M, detail="merged", pr=2) == "Pull request #2 merged"
    assert describe("pull_request.closed", FIP, pr=2) == "Pull request #2 closed without merging"
    assert describe("deployment_status.created", D, environment="prod-eu") == "Deployed to prod-eu"
    assert describe("something.new", M).startswith("Now merged")
    assert describe("pull_request_review.submitted", PR, detail="approved", pr=4, revised=True) == (
        "Pull request #4 approved (revised: GitHub reported an earlier event late)"
    )


# -- Property: any journey ends where GitHub's order says ---------------------------------
#
# A journey is a script of GitHub events in time order. ``replay`` reads it event by event, as
# a person following the issue would (an independent formulation of the rules); ``facts_of``
# records the same events the way storage does (per subject, the newest time wins). The
# derived stage must equal the replayed one for every journey.

EVENTS = (
    "assign", "unassign", "open_draft", "open_pr", "ready", "push", "approve_a", "approve_b",
    "changes_a", "changes_b", "dismiss_a", "close_pr", "reopen_pr", "merge", "deploy",
    "close_completed", "close_not_planned", "reopen_issue",
)


@dataclasses.dataclass
class _Pull:
    number: int
    state: str = "open"
    draft: bool = False
    reviews: dict = dataclasses.field(default_factory=dict)  # reviewer -> (verdict, time)
    pushed: dt.datetime | None = None
    seen: dt.datetime | None = None
    merged: dt.datetime | None = None
    shipped: dt.datetime | None = None


def _play(script: list[str]):
    """The script, with GitHub's constraints (a PR must exist to be reviewed…), as
    (time, event, pr) steps: events that make no sense at their point are dropped."""
    pulls: list[_Pull] = []
    issue_open, steps = True, []
    for i, name in enumerate(script):
        when = t(i + 1)
        current = pulls[-1] if pulls else None
        live = current is not None and current.state == "open"
        if name in ("open_draft", "open_pr"):
            if live:
                continue
            pulls.append(_Pull(len(pulls) + 2, draft=name == "open_draft"))
            current = pulls[-1]
        elif name in ("ready", "push", "approve_a", "approve_b", "changes_a", "changes_b",
                      "dismiss_a", "close_pr", "merge"):
            if not live or (name == "ready" and not current.draft):
                continue
        elif name == "reopen_pr":
            if current is None or current.state != "closed":
                continue
        elif name == "deploy":
            if not any(p.state == "merged" for p in pulls):
                continue
        elif name.startswith("close_"):
            if not issue_open:
                continue
        elif name == "reopen_issue":
            if issue_open:
                continue
        steps.append((when, name, current))
        if name == "close_pr":
            current.state = "closed"
        elif name == "reopen_pr":
            current.state = "open"
        elif name == "merge":
            current.state = "merged"
        elif name == "ready":
            current.draft = False
        elif name.startswith("close_"):
            issue_open = False
        elif name == "reopen_issue":
            issue_open = True
    return steps


def replay(script: list[str], tracking: bool = True) -> Stage:
    """An event-by-event reading in GitHub's order: where a person would say the ticket is."""
    stage_now = IC
    known: dict[int, _Pull] = {}  # every PR as it is now
    active: set[int] = set()  # the PRs worked on since the last reopen: the fix
    assigned, closed_completed = False, False
    for when, name, pull in _play(script):
        p = known.setdefault(pull.number, _Pull(pull.number)) if pull else None
        if p is not None and name != "deploy":
            active.add(p.number)
        if name == "assign":
            assigned = True
        elif name == "unassign":
            assigned = False
        elif name in ("open_draft", "open_pr"):
            p.draft, p.state = name == "open_draft", "open"
        elif name == "ready":
            p.draft = False
        elif name == "reopen_pr":
            p.state = "open"
        elif name == "push":
            p.reviews = {k: v for k, v in p.reviews.items() if v != "changes"}
        elif name.startswith(("approve", "changes")):
            p.reviews[name[-1]] = name.split("_")[0]
        elif name == "dismiss_a":
            p.reviews.pop("a", None)
        elif name == "close_pr":
            p.state = "closed"
        elif name == "merge":
            p.state = "merged"
        elif name == "deploy":
            for q in known.values():
                if q.state == "merged" and q.shipped is None:
                    q.shipped = when
        elif name == "close_completed":
            closed_completed = True
        elif name == "close_not_planned":
            stage_now = C
        elif name == "reopen_issue":
            # A reopen starts over: the work before it did not fix the problem.
            active, assigned, closed_completed, stage_now = set(), False, False, IC
        if stage_now is C and not closed_completed:
            continue  # closed as not planned: only a reopen brings it back
        fix = [known[n] for n in active]
        merged = [q for q in fix if q.state == "merged"]
        out = any(q.shipped for q in merged) if tracking else bool(merged)
        ready = [q for q in fix if q.state == "open" and not q.draft]
        asked = [q for q in ready if "changes" in q.reviews.values()]
        pending = (merged and not out) or ready or any(q.state == "open" and q.draft for q in fix)
        if closed_completed and (out or not pending):
            stage_now = C
        elif out:
            stage_now = D if tracking else M
        elif merged:
            stage_now = M
        elif ready and len(asked) == len(ready):
            stage_now = CR
        elif ready:
            stage_now = PR
        elif fix or assigned:
            stage_now = FIP
        else:
            stage_now = IC
    return stage_now


def facts_of(script: list[str], tracking: bool = True) -> TicketFacts:
    """The same events as storage records them: per subject, the newest time wins."""
    issue: dict = {"state": "open", "state_at": t(0)}
    pulls: dict[int, _Pull] = {}
    for when, name, pull in _play(script):
        p = pulls.setdefault(pull.number, _Pull(pull.number)) if pull else None
        if p is not None:
            p.seen = when
        if name in ("assign", "unassign"):
            issue.update(assigned=name == "assign", assigned_at=when)
        elif name in ("open_draft", "open_pr"):
            p.draft, p.state = name == "open_draft", "open"
        elif name == "ready":
            p.draft = False
        elif name == "reopen_pr":
            p.state = "open"
        elif name == "push":
            p.pushed = when
        elif name.startswith(("approve", "changes")):
            verdict = Verdict.APPROVED if name.startswith("approve") else Verdict.CHANGES_REQUESTED
            p.reviews[name[-1]] = (verdict, when)
        elif name == "dismiss_a" and "a" in p.reviews:
            p.reviews["a"] = (Verdict.DISMISSED, p.reviews["a"][1])
        elif name == "close_pr":
            p.state = "closed"
        elif name == "merge":
            p.state, p.merged = "merged", when
        elif name == "deploy":
            for q in pulls.values():
                if q.state == "merged" and q.shipped is None:
                    q.shipped = when
        elif name.startswith("close_"):
            issue.update(state="closed", state_reason=name[6:], state_at=when, grace_until=when)
        elif name == "reopen_issue":
            issue.update(state="open", state_reason="reopened", state_at=when, reopened_at=when)
    return TicketFacts(
        has_issue=True,
        issue=IssueFacts(**issue),
        pulls=tuple(
            PullFacts(
                number=q.number,
                state=PullState(q.state),
                draft=q.draft,
                seen_at=q.seen,
                merged_at=q.merged,
                pushed_at=q.pushed,
                shipped_at=q.shipped,
                reviews=tuple(Review(k, v, w) for k, (v, w) in q.reviews.items()),
            )
            for q in pulls.values()
        ),
        deployment_tracking=tracking,
    )


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(st.sampled_from(EVENTS), max_size=14), tracking=st.booleans())
def test_any_journey_ends_where_an_event_by_event_reading_says(script, tracking):
    steps = [name for _, name, _ in _play(script)]
    assert stage(facts_of(script, tracking)) is replay(script, tracking), steps
