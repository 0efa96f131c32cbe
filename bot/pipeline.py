"""The 8-stage pipeline: the stages, their order, and what each one means to a submitter.

Pure rules only, no I/O; the transition table for GitHub events lives here too.
"""

from __future__ import annotations

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
