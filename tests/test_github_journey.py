"""A ticket's whole journey, driven only by signed webhooks against the fake GitHub."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.world import OWNER, REPO

T0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)


@pytest.fixture(autouse=True)
def _events_happen_after_the_test_starts():
    """GitHub's clock for this test's events: a few seconds after the test starts, not after
    the module was imported (a long run would otherwise send events older than its tickets)."""
    global T0
    T0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


async def test_full_journey_to_closed_with_one_status_comment(world):
    fake = world.fake
    ticket = await world.submit()
    public_id = ticket["publicId"]
    assert await world.stage(public_id) == "RECEIVED"

    await world.drain()
    [issue] = fake.issues(OWNER, REPO)
    n = issue["number"]
    assert issue["title"] == "Login button unresponsive on Safari"
    assert public_id in issue["body"] and "<!-- tinydesk:ticket=TK-00001 -->" in issue["body"]
    assert f"https://desk.example.test/track/{public_id}" in issue["body"]
    assert "agent@example.com" not in issue["body"] and "AI Agent v2" not in issue["body"]
    assert [label["name"] for label in issue["labels"]] == ["tinydesk"]
    assert await world.stage(public_id) == "ISSUE_CREATED"
    assert len(world.status_comments(n)) == 1

    pr = fake.add_pull(OWNER, REPO, head_sha="c" * 40, body=f"Fixes #{n}")
    steps = [
        ("issues.assigned", {"issue_number": n}, "FIX_IN_PROGRESS"),
        (
            "pull_request.opened",
            {"pr_number": pr, "pr_body": f"Fixes #{n}", "draft": False},
            "PR_OPEN",
        ),
        (
            "pull_request_review.submitted",
            {"pr_number": pr, "pr_body": f"Fixes #{n}", "review_state": "changes_requested"},
            "CHANGES_REQUESTED",
        ),
        (
            "pull_request.synchronize",
            {"pr_number": pr, "pr_body": f"Fixes #{n}", "draft": False},
            "PR_OPEN",
        ),
        (
            "pull_request.closed",
            {
                "pr_number": pr,
                "pr_body": f"Fixes #{n}",
                "merged": True,
                "merge_commit_sha": "a" * 40,
            },
            "MERGED",
        ),
    ]
    for minute, (name, options, expected) in enumerate(steps, start=1):
        await world.deliver(name, at=at(minute), **options)
        await world.drain()
        assert await world.stage(public_id) == expected, name

    fake.add_commits(OWNER, REPO, ["a" * 40, "b" * 40])
    await world.deliver(
        "deployment_status.created",
        at=at(10),
        sha="b" * 40,
        environment="production",
        deployment_state="success",
    )
    await world.drain()
    assert await world.stage(public_id) == "DEPLOYED"

    await world.deliver("issues.closed", at=at(11), issue_number=n, state_reason="completed")
    await world.drain()
    view = await world.track(public_id, ticket["trackingToken"])
    assert view["status"] == "CLOSED"
    assert [h["to"] for h in view["history"]] == [
        "RECEIVED",
        "ISSUE_CREATED",
        "FIX_IN_PROGRESS",
        "PR_OPEN",
        "CHANGES_REQUESTED",
        "PR_OPEN",
        "MERGED",
        "DEPLOYED",
        "CLOSED",
    ]
    assert view["history"][3]["description"] == f"Pull request #{pr} opened"
    assert view["history"][7]["description"] == "Deployed to production"
    assert all(stage["reached"] for stage in view["pipeline"])

    [status] = world.status_comments(n)
    assert "**TK-00001**" in status["body"] and "now **Closed**" in status["body"]
    assert status["body"].count("- [x]") == 7  # every stage but the optional CHANGES_REQUESTED
    pr_notes = [c for c in fake.comments_on(OWNER, REPO, pr) if "tinydesk:pr-link" in c["body"]]
    assert len(pr_notes) == 1 and "TK-00001" in pr_notes[0]["body"]

    # Once per process or repository, not per ticket: finding the installation, its token,
    # the App's own login, the label.
    once = {
        "GET /repos/{owner}/{repo}/installation",
        "POST /app/installations/{installation_id}/access_tokens",
        "GET /app",
        "POST /repos/{owner}/{repo}/labels",
    }
    assert all(fake.count(op) == 1 for op in once)
    per_ticket = [(c.method, c.path) for c in fake.calls if c.operation not in once]
    assert len(per_ticket) <= 12, "\n".join(map(str, per_ticket))
    assert fake.count("POST /repos/{owner}/{repo}/issues") == 1
    assert (
        fake.count("POST /repos/{owner}/{repo}/issues/{issue_number}/comments") == 2
    )  # status + PR note
