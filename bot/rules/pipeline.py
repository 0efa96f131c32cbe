"""The 8-stage pipeline: the stages, what each one means to a submitter, and the rule that
derives a ticket's stage from what GitHub said.

Pure rules only, no I/O. A ticket's stage is never accumulated event by event: every signal
is stored as a fact with GitHub's own time (last writer wins, per subject), and ``derive``
reads the stage off the facts. Any delivery order, and any redelivery, gives the same stage.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable


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


# -- Facts: what GitHub (and the desk) said, each with GitHub's own time ------------------


class PullState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # closed without merging
    MERGED = "merged"


class Verdict(enum.StrEnum):
    """A review that counts (GitHub's rule: a comment-only review changes no one's verdict)."""

    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    DISMISSED = "dismissed"


@dataclasses.dataclass(frozen=True)
class Review:
    """One reviewer's latest review of a pull request (the one GitHub counts)."""

    reviewer: str
    verdict: Verdict
    submitted_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class PullFacts:
    """A pull request that closes the issue, as of the newest event of it seen."""

    number: int
    state: PullState = PullState.OPEN
    draft: bool = False
    seen_at: dt.datetime | None = None  # GitHub's time of the newest event of the PR
    merged_at: dt.datetime | None = None
    pushed_at: dt.datetime | None = None  # the newest push of commits
    shipped_at: dt.datetime | None = None  # the first production deployment containing the merge
    reviews: tuple[Review, ...] = ()


@dataclasses.dataclass(frozen=True)
class IssueFacts:
    """The GitHub issue a ticket follows."""

    state: str = "open"  # open | closed
    state_reason: str | None = None  # completed | not_planned | duplicate | reopened
    state_at: dt.datetime | None = None  # when it was last opened, closed or reopened
    reopened_at: dt.datetime | None = None  # the newest reopen: a fix counts only after it
    assigned: bool = False
    assigned_at: dt.datetime | None = None
    label: Stage | None = None  # a maintainer's stage label (``STAGE_LABELS``)
    label_at: dt.datetime | None = None
    # A completed close waits until then (TinyDesk's clock) for the merge that may explain it.
    grace_until: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class TicketFacts:
    has_issue: bool = False
    issue: IssueFacts = IssueFacts()
    pulls: tuple[PullFacts, ...] = ()
    staff_closed_at: dt.datetime | None = None  # support closed the ticket in the desk
    deployment_tracking: bool = True


NOT_PLANNED_REASONS = frozenset({"not_planned", "duplicate"})


class ClosedReason(enum.StrEnum):
    """Why a ticket is CLOSED, as the public view says it."""

    FIXED = "fixed"  # the fix is live (deployed; merged where deployments are not tracked)
    COMPLETED = "completed"  # the issue was closed as completed, with no fix
    NOT_PLANNED = "not_planned"
    DUPLICATE = "duplicate"
    SUPPORT = "support"  # closed by support in the desk
    MAINTAINER = "maintainer"  # a maintainer's ``tinydesk:closed`` label


def changes_requested(pull: PullFacts) -> bool:
    """GitHub's rule: each reviewer's latest review counts; a request for changes stands until
    that reviewer approves, it is dismissed, or new commits are pushed after it."""
    return any(
        review.verdict is Verdict.CHANGES_REQUESTED
        and not (
            pull.pushed_at is not None
            and review.submitted_at is not None
            and pull.pushed_at > review.submitted_at
        )
        for review in pull.reviews
    )


def counts_as_fix(pull: PullFacts, since: dt.datetime | None) -> bool:
    """After a reopen at ``since``, only a PR merged after it, or still worked on after it,
    is part of the fix (the earlier fix did not hold)."""
    if since is None:
        return True
    when = pull.merged_at if pull.state is PullState.MERGED and pull.merged_at else pull.seen_at
    return when is not None and when > since


@dataclasses.dataclass(frozen=True)
class Situation:
    """The facts boiled down to what the rules ask; ``situation`` builds it."""

    has_issue: bool = True
    staff_closed: bool = False
    label: Stage | None = None  # a maintainer's label, when it is the newest word
    closed_as: str | None = None  # completed | not_planned | duplicate, while the issue is closed
    grace_over: bool = True
    tracking: bool = True
    fix_out: bool = False  # a fix is live: deployed, or merged if deployments are not tracked
    merged: bool = False
    changes_requested: bool = False  # every ready PR of the fix has changes requested
    in_review: bool = False  # a ready PR of the fix awaits review
    draft_open: bool = False
    attempted: bool = False  # a PR of the fix was closed without merging
    assigned: bool = False

    @property
    def fix_pending(self) -> bool:
        merged_not_out = self.merged and not self.fix_out
        return merged_not_out or self.in_review or self.changes_requested or self.draft_open


def situation(facts: TicketFacts, now: dt.datetime) -> Situation:
    issue = facts.issue
    since = issue.reopened_at
    fix = [p for p in facts.pulls if counts_as_fix(p, since)]
    merged = [p for p in fix if p.state is PullState.MERGED]
    ready = [p for p in fix if p.state is PullState.OPEN and not p.draft]
    asked = [p for p in ready if changes_requested(p)]
    staff_closed = facts.staff_closed_at is not None and not (
        since is not None and since > facts.staff_closed_at
    )
    closed_as = None
    if issue.state == "closed":
        reason = (issue.state_reason or "completed").lower()
        closed_as = reason if reason in NOT_PLANNED_REASONS else "completed"
    return Situation(
        has_issue=facts.has_issue,
        staff_closed=staff_closed,
        label=issue.label if _label_is_newest(facts) else None,
        closed_as=closed_as,
        grace_over=issue.grace_until is None or now >= issue.grace_until,
        tracking=facts.deployment_tracking,
        fix_out=any(p.shipped_at for p in merged) if facts.deployment_tracking else bool(merged),
        merged=bool(merged),
        changes_requested=bool(ready) and len(asked) == len(ready),
        in_review=len(ready) > len(asked),
        draft_open=any(p.state is PullState.OPEN and p.draft for p in fix),
        attempted=any(p.state is PullState.CLOSED for p in fix),
        assigned=issue.assigned
        and (since is None or (issue.assigned_at is not None and issue.assigned_at > since)),
    )


def latest_fact_at(facts: TicketFacts, *, with_label: bool = True) -> dt.datetime | None:
    """GitHub's time of the newest fact known about the ticket."""
    issue = facts.issue
    times = [issue.state_at, issue.reopened_at, issue.assigned_at]
    if with_label:
        times.append(issue.label_at)
    for pull in facts.pulls:
        times += [pull.seen_at, pull.merged_at, pull.pushed_at, pull.shipped_at]
        times += [review.submitted_at for review in pull.reviews]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _label_is_newest(facts: TicketFacts) -> bool:
    issue = facts.issue
    if issue.label is None or issue.label_at is None:
        return False
    others = latest_fact_at(facts, with_label=False)
    return others is None or issue.label_at >= others


@dataclasses.dataclass(frozen=True)
class Rule:
    """One row of the table: when ``when`` holds, the ticket is at ``stage`` (None: the
    maintainer's label names it), CLOSED ones with their ``reason``."""

    name: str
    when: Callable[[Situation], bool]
    stage: Stage | None
    reason: ClosedReason | None = None


# The rules, first match wins. Read top to bottom, they are the pipeline (README, "The rules").
RULES: tuple[Rule, ...] = (
    Rule(
        "no issue yet, closed by support",
        lambda s: not s.has_issue and s.staff_closed,
        Stage.CLOSED,
        ClosedReason.SUPPORT,
    ),
    Rule("no issue yet", lambda s: not s.has_issue, Stage.RECEIVED),
    Rule("closed by support", lambda s: s.staff_closed, Stage.CLOSED, ClosedReason.SUPPORT),
    Rule(
        "a maintainer closed it by label",
        lambda s: s.label is Stage.CLOSED,
        Stage.CLOSED,
        ClosedReason.MAINTAINER,
    ),
    Rule("a maintainer's label is the newest word", lambda s: s.label is not None, None),
    Rule(
        "issue closed as not planned",
        lambda s: s.closed_as == "not_planned",
        Stage.CLOSED,
        ClosedReason.NOT_PLANNED,
    ),
    Rule(
        "issue closed as a duplicate",
        lambda s: s.closed_as == "duplicate",
        Stage.CLOSED,
        ClosedReason.DUPLICATE,
    ),
    Rule(
        "issue closed and the fix is live",
        lambda s: s.closed_as == "completed" and s.fix_out,
        Stage.CLOSED,
        ClosedReason.FIXED,
    ),
    Rule(
        "issue closed as completed, no fix turned up",
        lambda s: s.closed_as == "completed" and not s.fix_pending and s.grace_over,
        Stage.CLOSED,
        ClosedReason.COMPLETED,
    ),
    Rule("the fix is deployed", lambda s: s.fix_out and s.tracking, Stage.DEPLOYED),
    Rule("the fix is merged", lambda s: s.merged, Stage.MERGED),
    Rule("reviewers asked for changes", lambda s: s.changes_requested, Stage.CHANGES_REQUESTED),
    Rule("a fix is up for review", lambda s: s.in_review, Stage.PR_OPEN),
    Rule(
        "a developer is on it",
        lambda s: s.draft_open or s.attempted or s.assigned,
        Stage.FIX_IN_PROGRESS,
    ),
    Rule("the issue is open", lambda s: True, Stage.ISSUE_CREATED),
)


@dataclasses.dataclass(frozen=True)
class Derived:
    stage: Stage
    reason: ClosedReason | None  # set when CLOSED
    rule: str  # the row of ``RULES`` that decided


def decide(s: Situation) -> Derived:
    for rule in RULES:
        if rule.when(s):
            stage = rule.stage or s.label or Stage.ISSUE_CREATED
            return Derived(stage, rule.reason, rule.name)
    raise AssertionError("the last rule always matches")  # pragma: no cover


def derive(facts: TicketFacts, now: dt.datetime) -> Derived:
    """The ticket's stage, a pure function of its facts and the time (for the close grace)."""
    return decide(situation(facts, now))


# -- History: what the public reads about each stage change -------------------------------

# By cause (``event.action``, with a detail where the action alone does not say).
HISTORY_TEXT: dict[str, str] = {
    "issue.created": "GitHub issue created",
    "issues.opened": "GitHub issue created",
    "staff.linked": "Linked to a GitHub issue",
    "issues.assigned": "A developer picked up the issue",
    "issues.unassigned": "The issue was unassigned",
    "issues.closed:completed": "Issue closed as completed",
    "issues.closed:not_planned": "Issue closed as not planned",
    "issues.closed:duplicate": "Issue closed as a duplicate",
    "issues.reopened": "Issue reopened",
    "issues.labeled": "Moved to {stage} by a maintainer",
    "close.confirmed": "Issue closed as completed",
    "pull_request.opened": "Pull request #{pr} opened",
    "pull_request.opened:draft": "Draft pull request #{pr} opened",
    "pull_request.reopened": "Pull request #{pr} reopened",
    "pull_request.ready_for_review": "Pull request #{pr} marked ready for review",
    "pull_request.converted_to_draft": "Pull request #{pr} converted to a draft",
    "pull_request.synchronize": "New commits pushed to pull request #{pr}",
    "pull_request.edited": "Pull request #{pr} edited",
    "pull_request.closed:merged": "Pull request #{pr} merged",
    "pull_request.closed": "Pull request #{pr} closed without merging",
    "pull_request_review.submitted:approved": "Pull request #{pr} approved",
    "pull_request_review.submitted:changes_requested": "Changes requested on pull request #{pr}",
    "pull_request_review.dismissed": "Review of pull request #{pr} dismissed",
    "deployment_status.created": "Deployed to {environment}",
    "deployment_status": "Deployed to {environment}",
    "staff.closed": "Closed by support",
}
# Said of the closing step when a fix goes out while the issue was already closed.
CLOSED_TEXT: dict[ClosedReason, str] = {
    ClosedReason.FIXED: "Issue already closed; the fix is live",
    ClosedReason.COMPLETED: "Issue closed as completed",
    ClosedReason.NOT_PLANNED: "Issue closed as not planned",
    ClosedReason.DUPLICATE: "Issue closed as a duplicate",
    ClosedReason.SUPPORT: "Closed by support",
    ClosedReason.MAINTAINER: "Closed by a maintainer",
}
REVISED = " (revised: GitHub reported an earlier event late)"


def describe(
    cause: str,
    to: Stage,
    *,
    detail: str | None = None,
    pr: int | None = None,
    environment: str | None = None,
    revised: bool = False,
) -> str:
    """The history line for a move to ``to`` that ``cause`` brought about: no titles, names
    or private details."""
    template = HISTORY_TEXT.get(f"{cause}:{detail}") or HISTORY_TEXT.get(cause)
    if template is None:
        template = f"Now {STAGE_TITLES[to].lower()}"
    text = template.format(
        pr=pr if pr is not None else "?",
        environment=environment or "production",
        stage=STAGE_TITLES[to].lower(),
    )
    return text + (REVISED if revised else "")


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


def stage_for_value(value: str | None) -> Stage | None:
    """The stage a stored value names, if it names one."""
    return Stage(value) if value is not None and value in Stage.__members__ else None
