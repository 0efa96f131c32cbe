"""The pure mapping between pipeline stages and desk statuses (bot/rules/desk_status.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules.desk_status import (
    resolved_at_for,
    staff_status_change,
    status_for_stage_change,
    unwanted_issue_reason,
)
from bot.rules.pipeline import STAGES, Stage

NOW = dt.datetime(2026, 2, 17, 12, 0, tzinfo=dt.UTC)
EARLIER = NOW - dt.timedelta(hours=3)
WORKING = [s for s in STAGES if s not in (Stage.DEPLOYED, Stage.CLOSED)]


@pytest.mark.parametrize("current", ["open", "pending", "resolved", "closed"])
def test_deployed_resolves_and_closed_closes(current):
    assert status_for_stage_change(current, "DEPLOYED") == "resolved"
    assert status_for_stage_change(current, "CLOSED") == "closed"


@pytest.mark.parametrize("stage", WORKING)
@pytest.mark.parametrize("current", ["resolved", "closed"])
def test_work_resuming_after_the_end_reopens(current, stage):
    assert status_for_stage_change(current, stage.value) == "open"


@pytest.mark.parametrize("stage", WORKING)
@pytest.mark.parametrize("current", ["open", "pending"])
def test_progress_keeps_open_and_pending(current, stage):
    assert status_for_stage_change(current, stage.value) == current


def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError):
        status_for_stage_change("open", "SHIPPED")


def test_resolved_at_is_stamped_kept_and_forgotten():
    assert resolved_at_for("open", "resolved", None, NOW) == NOW
    assert resolved_at_for("resolved", "resolved", EARLIER, NOW) == EARLIER
    assert resolved_at_for("resolved", "closed", EARLIER, NOW) == EARLIER
    assert resolved_at_for("open", "closed", None, NOW) is None
    assert resolved_at_for("resolved", "open", EARLIER, NOW) is None
    assert resolved_at_for("closed", "pending", EARLIER, NOW) is None


def test_staff_closing_moves_the_stage_once():
    change = staff_status_change(
        current_status="open",
        current_stage="PR_OPEN",
        resolved_at=None,
        new_status="closed",
        now=NOW,
    )
    assert (change.status, change.close_stage, change.resolved_at) == ("closed", True, None)
    again = staff_status_change(
        current_status="closed",
        current_stage="CLOSED",
        resolved_at=None,
        new_status="closed",
        now=NOW,
    )
    assert again.close_stage is False


@pytest.mark.parametrize("status", ["open", "pending", "resolved"])
def test_other_staff_statuses_never_move_the_stage(status):
    change = staff_status_change(
        current_status="open", current_stage="MERGED", resolved_at=None, new_status=status, now=NOW
    )
    assert change.status == status and change.close_stage is False
    assert change.resolved_at == (NOW if status == "resolved" else None)


@pytest.mark.parametrize(
    ("stage", "deleted", "reason"),
    [
        ("RECEIVED", False, None),
        ("RECEIVED", True, "the ticket was deleted"),
        ("CLOSED", False, "the ticket was closed"),
        ("CLOSED", True, "the ticket was deleted"),  # deleting closes too: the delete says more
    ],
)
def test_a_ticket_staff_closed_or_deleted_wants_no_github_issue(stage, deleted, reason):
    assert unwanted_issue_reason(stage=stage, deleted=deleted) == reason
