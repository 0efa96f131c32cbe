"""The journeys the order-independence tests deliver are GitHub's: every payload matches its
webhook schema, GitHub's times strictly increase along the script, a merge is followed a
second later by GitHub's automatic close of the issues it fixes, and the fake GitHub's compare
API places each deployment after the merges before it and before those after it."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings

from tests.fakes import checked_fake
from tests.journeys import MAINTAINER, Journey, Step, journeys, materialize, replay
from tests.payloads import schema_errors
from tests.world import FULL_NAME, INSTALLATION_ID, OWNER, REPO

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def script_of(journey: Journey):
    fake = checked_fake()
    fake.add_installation(INSTALLATION_ID, OWNER, [FULL_NAME])
    issues = []
    for i in range(journey.tickets):
        number = fake.add_issue(OWNER, REPO, f"Problem {i + 1}")
        issues.append(next(x for x in fake.issues(OWNER, REPO) if x["number"] == number))
    script = materialize(
        journey, fake, owner=OWNER, repo=REPO, installation_id=INSTALLATION_ID,
        issues=issues, start=START,
    )
    return fake, script


def ancestors(fake, sha: str) -> set[str]:
    return set(fake._ancestry(fake._repo(OWNER, REPO), sha))


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(journeys())
def test_journeys_are_what_github_would_send(journey):
    fake, script = script_of(journey)
    assert len(script.deliveries) == journey.deliveries
    times = [d.at for d in script.deliveries]
    assert times == sorted(set(times)) and times[0] > START  # strictly increasing
    merged: list[str] = []
    merged_at = START
    for previous, delivery in zip([None, *script.deliveries], script.deliveries, strict=False):
        assert schema_errors(delivery.event, delivery.payload) == [], delivery.label
        payload, iso = delivery.payload, delivery.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if delivery.event == "pull_request":
            pr = payload["pull_request"]
            assert pr["updated_at"] == iso and pr["body"].startswith("Fixes #")
            assert pr["merged"] is (pr["merged_at"] is not None)
            if pr["merged"]:
                assert (pr["state"], pr["merged_at"], pr["closed_at"]) == ("closed", iso, iso)
                merged.append(pr["merge_commit_sha"])
                merged_at = delivery.at
        if delivery.event == "issues":
            issue = payload["issue"]
            assert issue["updated_at"] == iso
            assert issue["state"] == ("closed" if payload["action"] == "closed" else "open")
            if "by GitHub" in delivery.label:  # the automatic close after a merge
                assert previous is not None
                assert previous.event == "pull_request" or "by GitHub" in previous.label
                # a second after the merge (the second issue of a PR that fixes two: two)
                assert delivery.at - merged_at in (dt.timedelta(seconds=1), dt.timedelta(seconds=2))
                assert issue["state_reason"] == "completed"
        if delivery.event == "pull_request_review":
            assert payload["review"]["state"] in ("approved", "changes_requested", "dismissed")
        if delivery.event == "deployment_status":
            assert payload["deployment_status"]["updated_at"] == iso
            deployed = ancestors(fake, payload["deployment"]["sha"])
            assert set(merged) <= deployed  # main is linear: every merge so far is in it


def test_a_merge_is_closed_by_github_a_second_later_and_deployments_follow_main():
    journey = replay(
        3,
        [
            Step("open_pr", 0, also=1),
            Step("merge", 0, 0, who=MAINTAINER),
            Step("deploy"),
            Step("open_pr", 2),
            Step("merge", 2, 1, who=MAINTAINER),
        ],
    )
    fake, script = script_of(journey)
    assert [d.label.split(" ")[0] for d in script.deliveries] == [
        "pull_request.opened", "pull_request.closed", "issues.closed", "issues.closed",
        "deployment_status", "pull_request.opened", "pull_request.closed", "issues.closed",
    ]
    opened, merge, close_1, close_2, deploy, _, later_merge, _ = script.deliveries
    assert opened.payload["pull_request"]["body"] == "Fixes #1\r\nFixes #2"
    assert close_1.at - merge.at == dt.timedelta(seconds=1)
    assert [c.payload["issue"]["number"] for c in (close_1, close_2)] == [1, 2]
    merge_sha = merge.payload["pull_request"]["merge_commit_sha"]
    assert deploy.payload["deployment"]["sha"] == merge_sha  # main's tip: compare, identical
    later_sha = later_merge.payload["pull_request"]["merge_commit_sha"]
    assert merge_sha in ancestors(fake, later_sha)  # linear main: the later merge follows
    assert later_sha not in ancestors(fake, deploy.payload["deployment"]["sha"])
