"""The view tells the truth, on all three surfaces at once: the JSON API, the tracking page and
the GitHub status comment (as the fake GitHub stored it). Journeys are signed webhooks."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.deskkit import bearer, make_key
from tests.web_helpers import steps
from tests.world import OWNER, REPO

T0 = dt.datetime.now(dt.UTC)


@pytest.fixture(autouse=True)
def _events_happen_after_the_test_starts():
    global T0
    T0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


class Surfaces:
    """One ticket as the API, the page and the status comment show it."""

    def __init__(self, api: dict, page: str, comment: str | None) -> None:
        self.api = api
        self.stages = {entry["stage"]: entry for entry in api["pipeline"]}
        self.page = page
        self.drawn = steps(page)
        self.comment = comment

    def api_states(self) -> dict[str, str]:
        return {stage: entry["state"] for stage, entry in self.stages.items()}

    def page_states(self) -> dict[str, str]:
        return {stage: state for stage, (state, _) in self.drawn.items()}

    def comment_line(self, title: str) -> str:
        assert self.comment is not None
        [line] = [
            line
            for line in self.comment.splitlines()
            if re.match(rf"- \[.\] (~~)?{re.escape(title)}\b", line)
        ]
        return line


async def surfaces(world, public_id: str, issue_number: int | None) -> Surfaces:
    await world.settle()
    api = await world.track(public_id)
    page = await (await world.client.get(f"/track/{public_id}")).text()
    comment = None
    if issue_number is not None:
        [status] = world.status_comments(issue_number)
        comment = status["body"]
    return Surfaces(api, page, comment)


async def ticket_on_issue(world) -> tuple[str, int]:
    ticket = await world.submit()
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    return ticket["publicId"], issue["number"]


async def review(world, n: int, pr: int, state: str, minute: int) -> None:
    await world.deliver(
        "pull_request_review.submitted",
        at=at(minute),
        pr_number=pr,
        pr_body=f"Fixes #{n}",
        review_state=state,
    )
    await world.settle()


async def open_pr(world, n: int, minute: int) -> int:
    pr = world.add_fix(n)
    await world.deliver(
        "pull_request.opened", at=at(minute), pr_number=pr, pr_body=f"Fixes #{n}", draft=False
    )
    await world.settle()
    return pr


async def ship(world, n: int, minute: int) -> None:
    """Open, merge and deploy a fix for issue ``n``, one minute apart from ``minute`` on."""
    pr = await open_pr(world, n, minute)
    sha = f"{minute:02d}".ljust(40, "a")
    await world.merge(n, pr, sha, at=at(minute + 1))
    world.fake.add_commits(OWNER, REPO, [sha])
    await world.deploy(sha, at=at(minute + 2))
    await world.settle()


async def test_a_not_planned_close_shows_merged_and_deployed_skipped_everywhere(world):
    public_id, n = await ticket_on_issue(world)
    await world.deliver("issues.assigned", at=at(1), issue_number=n)
    await world.deliver("issues.closed", at=at(2), issue_number=n, state_reason="not_planned")
    seen = await surfaces(world, public_id, n)

    expected = {
        "RECEIVED": "reached",
        "ISSUE_CREATED": "reached",
        "FIX_IN_PROGRESS": "reached",
        "PR_OPEN": "skipped",
        "CHANGES_REQUESTED": "skipped",
        "MERGED": "skipped",
        "DEPLOYED": "skipped",
        "CLOSED": "current",
    }
    assert seen.api_states() == expected
    for stage in ("MERGED", "DEPLOYED"):
        entry = seen.stages[stage]
        assert entry["reached"] is False and entry["reachedAt"] is None, stage
    closed = seen.stages["CLOSED"]
    assert closed["closedReason"] == "not_planned"
    assert closed["closedReasonText"] == "Closed as not planned"

    assert seen.page_states() == expected
    assert '<dd id="current-stage">Closed as not planned</dd>' in seen.page
    assert '<span class="step-reason">Closed as not planned</span>' in seen.page
    merged_step = seen.page.split('data-stage="MERGED"')[1].split("</li>")[0]
    assert "Skipped" in merged_step and "Done" not in merged_step

    assert seen.comment_line("Merged") == "- [ ] ~~Merged~~ skipped"
    assert seen.comment_line("Deployed") == "- [ ] ~~Deployed~~ skipped"
    assert seen.comment_line("Fix in progress") == "- [x] Fix in progress"
    assert "now **Closed** · Closed as not planned" in seen.comment


async def test_staff_closing_a_ticket_at_received_skips_every_github_stage(world):
    ticket = await world.submit()  # its issue is never opened: the workers do not run
    key = await make_key(world.client)
    resp = await world.client.patch(
        f"/api/v1/desk/tickets/{ticket['publicId']}", json={"status": "closed"}, headers=bearer(key)
    )
    assert resp.status == 200, await resp.text()
    api = await world.track(ticket["publicId"])
    page = await (await world.client.get(f"/track/{ticket['publicId']}")).text()

    states = [entry["state"] for entry in api["pipeline"]]
    assert states == ["reached"] + ["skipped"] * 6 + ["current"]
    assert api["pipeline"][-1]["closedReason"] == "support"
    assert api["pipeline"][-1]["closedReasonText"] == "Closed by support"
    assert [state for state, _ in steps(page).values()] == states
    assert '<dd id="current-stage">Closed by support</dd>' in page


async def test_a_fix_that_shipped_then_closed_says_fixed_and_deployed(world):
    public_id, n = await ticket_on_issue(world)
    await ship(world, n, minute=1)
    await world.deliver("issues.closed", at=at(5), issue_number=n, state_reason="completed")
    seen = await surfaces(world, public_id, n)

    assert seen.api_states() == {
        "RECEIVED": "reached",
        "ISSUE_CREATED": "reached",
        "FIX_IN_PROGRESS": "reached",  # implied by the pull request, at its time
        "PR_OPEN": "reached",
        "CHANGES_REQUESTED": "skipped",
        "MERGED": "reached",
        "DEPLOYED": "reached",
        "CLOSED": "current",
    }
    assert seen.stages["FIX_IN_PROGRESS"]["reachedAt"] == seen.stages["PR_OPEN"]["reachedAt"]
    assert all(
        entry["reachedAt"] is not None
        for entry in seen.stages.values()
        if entry["state"] in ("reached", "current")
    )
    assert seen.stages["CLOSED"]["closedReason"] == "fixed"
    assert "now **Closed** · Fixed and deployed" in seen.comment
    assert seen.comment_line("Merged") == "- [x] Merged"
    assert '<dd id="current-stage">Fixed and deployed</dd>' in seen.page


async def test_a_regression_makes_the_fix_stages_pending_again(world):
    public_id, n = await ticket_on_issue(world)
    await ship(world, n, minute=1)
    assert (await world.track(public_id))["status"] == "DEPLOYED"
    await world.deliver("issues.reopened", at=at(10), issue_number=n)
    seen = await surfaces(world, public_id, n)

    assert seen.api["status"] == "ISSUE_CREATED"
    later = ["FIX_IN_PROGRESS", "PR_OPEN", "CHANGES_REQUESTED", "MERGED", "DEPLOYED", "CLOSED"]
    assert [seen.stages[s]["state"] for s in later] == ["pending"] * 6
    assert all(seen.stages[s]["reachedAt"] is None for s in later)
    assert seen.stages["CLOSED"]["closedReason"] is None
    assert [seen.page_states()[s] for s in later] == ["pending"] * 6
    assert seen.comment_line("Merged") == "- [ ] Merged"
    assert seen.comment_line("Deployed") == "- [ ] Deployed"
    assert "- [x] Issue created ← current" in seen.comment


async def test_changes_requested_twice_is_a_loop_of_two_rounds_never_done(world):
    public_id, n = await ticket_on_issue(world)
    pr = await open_pr(world, n, minute=1)
    await review(world, n, pr, "changes_requested", minute=2)
    await world.deliver(
        "pull_request.synchronize", at=at(3), pr_number=pr, pr_body=f"Fixes #{n}", draft=False
    )
    await review(world, n, pr, "changes_requested", minute=4)

    seen = await surfaces(world, public_id, n)
    loop = seen.stages["CHANGES_REQUESTED"]
    assert loop["state"] == "current" and loop["loop"] is True and loop["rounds"] == 2
    assert [entry["stage"] for entry in seen.api["pipeline"]].index("CHANGES_REQUESTED") == 4
    assert seen.drawn["CHANGES_REQUESTED"] == ("current", True)
    assert "↺ Current stage, round 2" in seen.page
    assert "  - ↺ Changes requested, 2 rounds ← current" in seen.comment

    await review(world, n, pr, "approved", minute=5)
    seen = await surfaces(world, public_id, n)
    loop = seen.stages["CHANGES_REQUESTED"]
    assert seen.api["status"] == "PR_OPEN"
    assert loop["state"] == "reached" and loop["reached"] is True and loop["rounds"] == 2
    loop_step = seen.page.split('data-stage="CHANGES_REQUESTED"')[1].split("</li>")[0]
    assert "↺ 2 rounds" in loop_step and "Done" not in loop_step
    assert 'class="step is-reached step-loop"' in seen.page
    assert "  - ↺ Changes requested, 2 rounds" in seen.comment
    assert "[x] Changes requested" not in seen.comment
    assert all(e["rounds"] == 2 for e in seen.api["pipeline"] if e["loop"])
    assert [e["stage"] for e in seen.api["pipeline"] if "rounds" in e] == ["CHANGES_REQUESTED"]


async def test_an_unmerged_close_ends_the_review_run(world):
    public_id, n = await ticket_on_issue(world)
    pr = await open_pr(world, n, minute=1)
    await review(world, n, pr, "changes_requested", minute=2)
    await world.deliver(
        "pull_request.closed", at=at(3), pr_number=pr, pr_body=f"Fixes #{n}", merged=False
    )
    seen = await surfaces(world, public_id, n)
    assert seen.api["status"] == "FIX_IN_PROGRESS"
    assert seen.stages["PR_OPEN"]["state"] == "pending"
    loop = seen.stages["CHANGES_REQUESTED"]
    assert loop["state"] == "pending" and loop["rounds"] == 0
    assert "Changes requested" not in seen.comment  # the loop shows only once it happened
