"""Redelivery, reordering, crashes, lost answers and a flaky GitHub change nothing but timing."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import DB
from bot.jobs.worker import WORKERS
from storage.models import Delivery, Job
from storage.repos import queue
from tests.world import OWNER, REPO, github_settings

T0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)


@pytest.fixture(autouse=True)
def _events_happen_after_the_test_starts():
    """GitHub's clock for this test's events: a few seconds after the test starts, not after
    the module was imported (a long run would otherwise send events older than its tickets)."""
    global T0
    T0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)


def journey(n: int, pr: int) -> list[tuple[str, dict]]:
    """The deliveries of one ticket's journey, in the order GitHub would send them."""
    body = f"Fixes #{n}"
    return [
        ("issues.assigned", {"issue_number": n}),
        ("pull_request.opened", {"pr_number": pr, "pr_body": body, "draft": False}),
        (
            "pull_request_review.submitted",
            {"pr_number": pr, "pr_body": body, "review_state": "changes_requested"},
        ),
        ("pull_request.synchronize", {"pr_number": pr, "pr_body": body, "draft": False}),
        (
            "pull_request_review.submitted",
            {"pr_number": pr, "pr_body": body, "review_state": "approved"},
        ),
        (
            "pull_request.closed",
            {"pr_number": pr, "pr_body": body, "merged": True, "merge_commit_sha": "a" * 40},
        ),
        (
            "deployment_status.created",
            {"sha": "b" * 40, "environment": "production", "deployment_state": "success"},
        ),
        ("issues.closed", {"issue_number": n, "state_reason": "completed"}),
    ]


async def open_issue(world) -> tuple[dict, int, int]:
    ticket = await world.submit()
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    pr = world.fake.add_pull(OWNER, REPO, head_sha="c" * 40, body=f"Fixes #{issue['number']}")
    world.fake.add_commits(OWNER, REPO, ["a" * 40, "b" * 40])
    return ticket, issue["number"], pr


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_shuffled_and_repeated_deliveries_end_in_the_same_state(world, seed):
    ticket, n, pr = await open_issue(world)
    deliveries = []
    for minute, (name, options) in enumerate(journey(n, pr), start=1):
        event, payload = world.event(name, at=T0 + dt.timedelta(minutes=minute), **options)
        deliveries.append((event, payload, f"delivery-{seed}-{minute}"))
    twice = deliveries * 2
    random.Random(seed).shuffle(twice)
    for event, payload, delivery_id in twice:
        resp = await world.post(event, payload, delivery_id=delivery_id)
        assert resp.status == 202
        await world.settle()
    assert await world.stage(ticket["publicId"]) == "CLOSED"
    assert len(world.fake.issues(OWNER, REPO)) == 2  # the issue and the PR
    assert len(world.status_comments(n)) == 1
    assert "now **Closed**" in world.status_comments(n)[0]["body"]
    notes = [c for c in world.fake.comments_on(OWNER, REPO, pr) if "tinydesk:pr-link" in c["body"]]
    assert len(notes) <= 1
    states = await world.queue_states()
    assert states["deliveries"]["done"] == len(deliveries) and states["deliveries"]["failed"] == 0


async def test_a_redelivery_is_acknowledged_and_not_processed_again(world):
    ticket, n, _ = await open_issue(world)
    event, payload = world.event("issues.assigned", issue_number=n)
    first = await world.post(event, payload, delivery_id="same-id")
    again = await world.post(event, payload, delivery_id="same-id")
    assert (await first.json())["status"] == "queued"
    assert (await again.json())["status"] == "duplicate" and again.status == 202
    await world.settle()
    history = (await world.track(ticket["publicId"]))["history"]
    assert [h["to"] for h in history].count("FIX_IN_PROGRESS") == 1


async def test_lost_answer_on_issue_creation_makes_no_second_issue(world):
    world.fake.fail_next("POST /repos/{owner}/{repo}/issues", 502, apply_then_fail=True)
    ticket = await world.submit()
    await world.settle()
    assert len(world.fake.issues(OWNER, REPO)) == 1
    assert await world.stage(ticket["publicId"]) == "ISSUE_CREATED"
    [issue] = world.fake.issues(OWNER, REPO)
    assert len(world.status_comments(issue["number"])) == 1


async def test_lost_answer_on_status_comment_makes_no_second_comment(world):
    world.fake.fail_next(
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", 502, apply_then_fail=True
    )
    ticket = await world.submit()
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    await world.deliver("issues.assigned", issue_number=issue["number"])
    await world.settle()
    [status] = world.status_comments(issue["number"])
    assert "now **Fix in progress**" in status["body"]
    assert await world.stage(ticket["publicId"]) == "FIX_IN_PROGRESS"


async def test_secondary_rate_limit_is_waited_out(world):
    world.fake.fail_next("POST /repos/{owner}/{repo}/issues", 403, retry_after=30)
    ticket = await world.submit()
    await world.drain()
    async with world.client.app[DB].session() as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == "create_issue"))).all()
    assert job.state == "pending" and "403" in job.last_error
    wait = (job.next_attempt_at - dt.datetime.now(dt.UTC)).total_seconds()
    assert 25 <= wait <= 31  # GitHub's Retry-After, not our own backoff
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "ISSUE_CREATED"


async def test_flaky_github_still_ends_in_the_right_stages(world):
    tickets = [await world.submit(subject=f"Problem {i}") for i in range(3)]
    world.fake.set_failure_rate(0.3, seed=7, retry_after=0)
    await world.settle(rounds=200)
    issues = world.fake.issues(OWNER, REPO)
    assert len(issues) == 3
    numbers = sorted(i["number"] for i in issues)
    for n in numbers:
        await world.deliver("issues.assigned", issue_number=n)
    await world.settle(rounds=200)
    world.fake.set_failure_rate(0)
    for ticket in tickets:
        assert await world.stage(ticket["publicId"]) == "FIX_IN_PROGRESS"
    for n in numbers:
        [status] = world.status_comments(n)
        assert "now **Fix in progress**" in status["body"]
    states = await world.queue_states()
    assert states["jobs"]["failed"] == 0 and states["deliveries"]["failed"] == 0


async def test_a_crash_midway_loses_nothing(make_client, fake_github, db):
    """Work claimed by a process that died is picked up by the next one."""
    from tests.world import make_world

    world = await make_world(make_client, fake_github)
    ticket = await world.submit()
    # The process claims the outbox job, then dies before doing it.
    async with db.begin() as session:
        claimed = await queue.claim(session, Job, limit=10, lease=dt.timedelta(minutes=5))
    assert [j.kind for j in claimed] == ["create_issue"]
    await world.client.close()

    # A new process on the same database (SQLite: it releases what the dead one held).
    restarted = create_app(github_settings(fake_github, run_workers=True), db=db)
    from aiohttp.test_utils import TestClient, TestServer

    client = TestClient(TestServer(restarted))
    await client.start_server()
    try:
        if (
            not db.is_sqlite
        ):  # PostgreSQL: several processes may share the queue; wait out the lease
            async with db.begin() as session:
                await session.execute(
                    Job.__table__.update().values(claimed_until=dt.datetime.now(dt.UTC))
                )
            restarted[WORKERS].wake()
        # The restarted process's own workers do the job: wait for them to finish it (the
        # issue exists on GitHub a moment before the ticket is linked to it).
        status = None
        for _ in range(200):
            await restarted[WORKERS].drain()
            resp = await client.get(f"/api/tickets/{ticket['publicId']}")
            status = (await resp.json())["status"]
            if status == "ISSUE_CREATED":
                break
            await __import__("asyncio").sleep(0.05)
        assert status == "ISSUE_CREATED"
        assert len(fake_github.issues(OWNER, REPO)) == 1
    finally:
        await client.close()


async def test_unfinished_deliveries_are_resumed_on_start(make_client, fake_github, db):
    from tests.world import make_world

    world = await make_world(make_client, fake_github)
    ticket = await world.submit()
    await world.settle()
    [issue] = fake_github.issues(OWNER, REPO)
    await world.deliver("issues.assigned", issue_number=issue["number"])  # stored, not processed
    async with db.session() as session:
        assert (await queue.counts(session, Delivery))["pending"] == 1
    await world.client.close()
    restarted = create_app(github_settings(fake_github, run_workers=True), db=db)
    from aiohttp.test_utils import TestClient, TestServer

    client = TestClient(TestServer(restarted))
    await client.start_server()
    try:
        for _ in range(100):
            resp = await client.get(f"/api/tickets/{ticket['publicId']}")
            if (await resp.json())["status"] == "FIX_IN_PROGRESS":
                break
            await __import__("asyncio").sleep(0.05)
        assert (await resp.json())["status"] == "FIX_IN_PROGRESS"
    finally:
        await client.close()


async def test_two_processes_share_the_inbox_without_processing_twice(world, fake_github, db):
    """Two apps on one database (as two `tinydesk serve` processes): every delivery is
    claimed once (``attempts`` counts claims) and all of them are processed."""
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer

    ticket, n, _ = await open_issue(world)
    for minute in range(30):
        await world.deliver("issues.assigned", at=T0 + dt.timedelta(seconds=minute), issue_number=n)
    other = TestClient(TestServer(create_app(github_settings(fake_github), db=db)))
    await other.start_server()
    try:
        await asyncio.gather(world.drain(), other.app[WORKERS].drain())
    finally:
        await other.close()
    async with db.session() as session:
        deliveries = (await session.scalars(select(Delivery))).all()
    assert len(deliveries) == 30
    assert {d.state for d in deliveries} == {"done"}
    assert {d.attempts for d in deliveries} == {1}
    assert await world.stage(ticket["publicId"]) == "FIX_IN_PROGRESS"
