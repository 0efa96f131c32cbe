"""The 8-stage pipeline: the stages, their order, and what each one means to a submitter.

Pure rules only, no I/O; the transition table for GitHub events lives here too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class Stage(enum.StrEnum):
    RECEIVED = "RECEIVED"
    ISSUE_CREATED = "ISSUE_CREATED"
    FIX_IN_PROGRESS = "FIX_IN_PROGRESS"
    PR_OPEN = "PR_OPEN"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    MERGED = "MERGED"
    DEPLOYED = "DEPLOYED"
    CLOSED = "CLOSED"


STAGES: tuple[Stage, ...] = tuple(Stage)
RANK = {stage: index for index, stage in enumerate(STAGES)}

STAGE_TITLES = {
    Stage.RECEIVED: "Received",
    Stage.ISSUE_CREATED: "Issue created",
    Stage.FIX_IN_PROGRESS: "Fix in progress",
    Stage.PR_OPEN: "Pull request open",
    Stage.CHANGES_REQUESTED: "Changes requested",
    Stage.MERGED: "Merged",
    Stage.DEPLOYED: "Deployed",
    Stage.CLOSED: "Closed",
}

STAGE_DESCRIPTIONS = {
    Stage.RECEIVED: "Ticket submitted via form or API",
    Stage.ISSUE_CREATED: "Linked to a GitHub issue",
    Stage.FIX_IN_PROGRESS: "A developer is working on a fix",
    Stage.PR_OPEN: "A fix is up for review",
    Stage.CHANGES_REQUESTED: "Reviewers asked for changes to the fix",
    Stage.MERGED: "The fix is merged",
    Stage.DEPLOYED: "The fix is live in production",
    Stage.CLOSED: "Ticket resolved",
}


class Fact(enum.StrEnum):
    """Something that happened on GitHub (or in the desk) that may move a ticket."""

    ISSUE_OPENED = "issue_opened"  # the bot created the issue, or staff linked one
    ISSUE_REOPENED = "issue_reopened"
    ISSUE_ASSIGNED = "issue_assigned"
    ISSUE_CLOSED_COMPLETED = "issue_closed_completed"
    # A while after a completed close, no fix turned up: the close stands on its own.
    ISSUE_CLOSE_CONFIRMED = "issue_close_confirmed"
    ISSUE_CLOSED_NOT_PLANNED = "issue_closed_not_planned"
    DRAFT_PR_LINKED = "draft_pr_linked"
    PR_LINKED = "pr_linked"  # a ready PR references the issue with a closing keyword
    PR_UPDATED = "pr_updated"  # new commits pushed to a linked PR
    REVIEW_APPROVED = "review_approved"
    REVIEW_DISMISSED = "review_dismissed"
    CHANGES_REQUESTED = "changes_requested"
    PR_MERGED = "pr_merged"
    PR_CLOSED_UNMERGED = "pr_closed_unmerged"
    DEPLOYED = "deployed"
    STAFF_CLOSED = "staff_closed"
    LABEL_APPLIED = "label_applied"  # a maintainer set the stage by hand


# Facts that only ever move a ticket forward, to this stage.
FORWARD: dict[Fact, Stage] = {
    Fact.ISSUE_OPENED: Stage.ISSUE_CREATED,
    Fact.ISSUE_ASSIGNED: Stage.FIX_IN_PROGRESS,
    Fact.DRAFT_PR_LINKED: Stage.FIX_IN_PROGRESS,
    Fact.PR_LINKED: Stage.PR_OPEN,
    Fact.CHANGES_REQUESTED: Stage.CHANGES_REQUESTED,
    Fact.PR_MERGED: Stage.MERGED,
    Fact.DEPLOYED: Stage.DEPLOYED,
}
# Facts that take a ticket out of CHANGES_REQUESTED, back to PR_OPEN.
BACK_TO_REVIEW = frozenset({Fact.PR_UPDATED, Fact.REVIEW_APPROVED, Fact.REVIEW_DISMISSED})


@dataclasses.dataclass(frozen=True)
class TicketState:
    stage: Stage
    # When (GitHub's clock) the event that set the current stage happened.
    stage_event_at: dt.datetime | None = None
    # The issue was closed as completed while the fix was not out yet.
    issue_closed: bool = False
    deployment_tracking: bool = True


@dataclasses.dataclass(frozen=True)
class Signal:
    """A fact as the rules see it: what happened, when (GitHub's clock), and its particulars."""

    fact: Fact
    occurred_at: dt.datetime | None = None
    # LABEL_APPLIED: the stage the maintainer chose.
    target: Stage | None = None
    # PR_CLOSED_UNMERGED: another linked PR is still open.
    other_open_prs: bool = False
    # ISSUE_CLOSED_COMPLETED: a linked PR is open or merged (a fix is on its way).
    fix_pending: bool = False


@dataclasses.dataclass(frozen=True)
class Decision:
    steps: tuple[Stage, ...] = ()
    issue_closed: bool = False

    @property
    def moves(self) -> bool:
        return bool(self.steps)


def decide(state: TicketState, signal: Signal) -> Decision:
    """The pipeline's rules: where ``signal`` takes a ticket in ``state``.

    Forward facts never move a ticket back, so a late or repeated one is harmless. The
    facts that may move it back (reopen, changes requested, a back-to-review signal, the
    unmerged close of the last open PR) and closing are ignored when they are older than
    the event that set the current stage.
    """
    stage, fact = state.stage, signal.fact
    keep = Decision(issue_closed=state.issue_closed)
    newer = (
        signal.occurred_at is None
        or state.stage_event_at is None
        or signal.occurred_at >= state.stage_event_at
    )
    fix_out = stage is Stage.DEPLOYED or (not state.deployment_tracking and stage is Stage.MERGED)

    if fact in FORWARD:
        target = FORWARD[fact]
        if fact is Fact.DEPLOYED and not state.deployment_tracking:
            return keep
        if RANK[target] <= RANK[stage] or stage is Stage.CLOSED:
            return keep
        steps: tuple[Stage, ...] = (target,)
        now_out = target is Stage.DEPLOYED or (
            not state.deployment_tracking and target is Stage.MERGED
        )
        if state.issue_closed and now_out:
            steps += (Stage.CLOSED,)
        return Decision(steps, issue_closed=state.issue_closed and not now_out)

    if fact in BACK_TO_REVIEW:
        if stage is Stage.CHANGES_REQUESTED and newer:
            return Decision((Stage.PR_OPEN,), issue_closed=state.issue_closed)
        return keep

    if fact is Fact.ISSUE_REOPENED:
        if RANK[stage] > RANK[Stage.ISSUE_CREATED] and newer:
            return Decision((Stage.ISSUE_CREATED,), issue_closed=False)
        return Decision(issue_closed=False) if newer else keep

    if fact is Fact.PR_CLOSED_UNMERGED:
        in_review = stage in (Stage.PR_OPEN, Stage.CHANGES_REQUESTED)
        if in_review and not signal.other_open_prs and newer:
            return Decision((Stage.FIX_IN_PROGRESS,), issue_closed=state.issue_closed)
        return keep

    if fact is Fact.ISSUE_CLOSED_COMPLETED:
        if stage is Stage.CLOSED or not newer:
            return keep
        if fix_out:
            return Decision((Stage.CLOSED,))
        # Wait for the fix. With no PR known yet, the close may come from a merge whose
        # delivery is still on its way: ISSUE_CLOSE_CONFIRMED settles it a little later.
        return Decision(issue_closed=True)

    if fact is Fact.ISSUE_CLOSE_CONFIRMED:
        if stage is Stage.CLOSED or not state.issue_closed or signal.fix_pending:
            return keep
        return Decision((Stage.CLOSED,))

    if fact in (Fact.ISSUE_CLOSED_NOT_PLANNED, Fact.STAFF_CLOSED):
        if stage is Stage.CLOSED or (fact is Fact.ISSUE_CLOSED_NOT_PLANNED and not newer):
            return keep
        return Decision((Stage.CLOSED,))

    if fact is Fact.LABEL_APPLIED:
        if signal.target is None or signal.target is stage or signal.target is Stage.RECEIVED:
            return keep
        return Decision((signal.target,), issue_closed=state.issue_closed)

    return keep


# What the history says about a move, publicly: no titles, names or private details.
DESCRIPTIONS: dict[Fact, str] = {
    Fact.ISSUE_OPENED: "GitHub issue created",
    Fact.ISSUE_REOPENED: "Issue reopened",
    Fact.ISSUE_ASSIGNED: "A developer picked up the issue",
    Fact.ISSUE_CLOSED_COMPLETED: "Issue closed as completed",
    Fact.ISSUE_CLOSE_CONFIRMED: "Issue closed as completed",
    Fact.ISSUE_CLOSED_NOT_PLANNED: "Issue closed as not planned",
    Fact.DRAFT_PR_LINKED: "Draft pull request #{pr} started",
    Fact.PR_LINKED: "Pull request #{pr} opened",
    Fact.PR_UPDATED: "New commits pushed to pull request #{pr}",
    Fact.REVIEW_APPROVED: "Pull request #{pr} approved",
    Fact.REVIEW_DISMISSED: "Review of pull request #{pr} dismissed",
    Fact.CHANGES_REQUESTED: "Changes requested on pull request #{pr}",
    Fact.PR_MERGED: "Pull request #{pr} merged",
    Fact.PR_CLOSED_UNMERGED: "Pull request #{pr} closed without merging",
    Fact.DEPLOYED: "Deployed to {environment}",
    Fact.STAFF_CLOSED: "Closed by support",
    Fact.LABEL_APPLIED: "Moved to {stage} by a maintainer",
}


def describe(
    fact: Fact, to: Stage, *, pr: int | None = None, environment: str | None = None
) -> str:
    text = DESCRIPTIONS[fact].format(
        pr=pr if pr is not None else "?",
        environment=environment or "production",
        stage=STAGE_TITLES[to].lower(),
    )
    if to is Stage.CLOSED and fact not in (
        Fact.ISSUE_CLOSED_COMPLETED,
        Fact.ISSUE_CLOSE_CONFIRMED,
        Fact.ISSUE_CLOSED_NOT_PLANNED,
        Fact.STAFF_CLOSED,
        Fact.LABEL_APPLIED,
    ):
        # A fix going out while the issue was already closed: say both.
        text += "; issue already closed"
    return text


# Labels a maintainer puts on a linked issue to set its tickets' stage by hand.
STAGE_LABEL_PREFIX = "tinydesk:"
STAGE_LABELS: dict[str, Stage] = {
    "tinydesk:in-progress": Stage.FIX_IN_PROGRESS,
    "tinydesk:pr-open": Stage.PR_OPEN,
    "tinydesk:changes-requested": Stage.CHANGES_REQUESTED,
    "tinydesk:merged": Stage.MERGED,
    "tinydesk:deployed": Stage.DEPLOYED,
    "tinydesk:closed": Stage.CLOSED,
}


def stage_for_label(name: str | None) -> Stage | None:
    if not name:
        return None
    return STAGE_LABELS.get(name.strip().lower())


class ClosedReason(enum.StrEnum):
    """Why a ticket is CLOSED (``StageTransition.reason`` on a step to CLOSED)."""

    FIXED = "fixed"  # the fix is live: deployed, or merged where deployments are not tracked
    COMPLETED = "completed"  # the issue was closed as completed and no fix turned up
    NOT_PLANNED = "not_planned"
    DUPLICATE = "duplicate"
    SUPPORT = "support"  # staff closed the ticket in the desk
    MAINTAINER = "maintainer"  # a tinydesk:closed label


def closed_reason(fact: Fact, *, state_reason: str | None = None) -> ClosedReason | None:
    """Why a step to CLOSED that ``fact`` caused closes the ticket (``state_reason`` is the
    issue's, from GitHub). Only a fix going out closes on a merge or a deployment, and a
    completed close closes at once only when the fix is out (``decide``)."""
    if fact is Fact.ISSUE_CLOSED_NOT_PLANNED:
        return ClosedReason.DUPLICATE if state_reason == "duplicate" else ClosedReason.NOT_PLANNED
    return _CLOSED_BY.get(fact)


_CLOSED_BY: dict[Fact, ClosedReason] = {
    Fact.STAFF_CLOSED: ClosedReason.SUPPORT,
    Fact.LABEL_APPLIED: ClosedReason.MAINTAINER,
    Fact.ISSUE_CLOSE_CONFIRMED: ClosedReason.COMPLETED,
    Fact.ISSUE_CLOSED_COMPLETED: ClosedReason.FIXED,
    Fact.PR_MERGED: ClosedReason.FIXED,
    Fact.DEPLOYED: ClosedReason.FIXED,
}
