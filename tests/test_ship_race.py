"""A merge and the deployment that ships it, worked at the same moment by two processes.

On PostgreSQL several processes work the inbox, each a batch to one uncommitted
transaction. The merge's batch looks for a deployment that already contains it; the
deployment's batch looks for merged fixes waiting for it; each is blind to the other's
uncommitted work. The ticket must still reach DEPLOYED, whichever batch commits first:
each queues a ``ship_check`` job that is visible only once its batch has committed, and
the last one to commit sees both halves. SQLite has one writer at a time, so its batches
never overlap (the same journeys in order are in test_github_journey.py).
"""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
import pytest
from sqlalchemy import select

from bot.appkeys import DB
from bot.github.client import GITHUB
from storage.models import Delivery, Job
from storage.unit import BatchTransaction
from tests.world import OWNER, REPO, World, make_world
from webhooks.inbox import InboxProcessor

MERGE_SHA = "d" * 40
LATER_SHA = "e" * 40
ELSEWHERE_SHA = "f" * 40


@pytest.fixture
async def pg_world(make_client, fake_github, database_url) -> World:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's batches never overlap: one writer at a time")
    return await make_world(make_client, fake_github)


def _delivery(world: World, name: str, at: dt.datetime, **options) -> Delivery:
    event, payload = world.event(name, at=at, **options)
    return Delivery(
        delivery_id=str(uuid.uuid4()),
        event=event,
        action=payload.get("action"),
        payload=orjson.dumps(payload).decode(),
    )


async def _merged_and_deployed_at_once(
    world: World, deployed_sha: str, *, deployment_commits_first: bool
) -> str:
    """A ticket whose fix is merged in one batch while its deployment is worked in another;
    the ticket's stage once both have committed and the outbox has run."""
    ticket = await world.submit(subject=f"Race {deployed_sha[:4]} {deployment_commits_first}")
    await world.drain()
    issue = world.fake.issues(OWNER, REPO)[-1]["number"]
    pr = world.add_fix(issue)
    now = dt.datetime.now(dt.UTC)
    await world.deliver("pull_request.opened", at=now, pr_number=pr, pr_body=f"Fixes #{issue}")
    await world.drain()
    assert await world.stage(ticket["publicId"]) == "PR_OPEN"

    merge = _delivery(
        world,
        "pull_request.closed",
        now + dt.timedelta(minutes=1),
        pr_number=pr,
        pr_body=f"Fixes #{issue}",
        merged=True,
        merge_commit_sha=MERGE_SHA,
    )
    deployment = _delivery(
        world,
        "deployment_status.created",
        now + dt.timedelta(minutes=2),
        sha=deployed_sha,
        environment="production",
        deployment_state="success",
    )
    db, github = world.client.app[DB], world.client.app[GITHUB]
    processor = InboxProcessor(db, github)
    first, second = (merge, deployment) if deployment_commits_first else (deployment, merge)
    async with BatchTransaction.open(db) as commits_second:
        await processor.in_unit(first, commits_second)
        async with BatchTransaction.open(db) as commits_first:
            await processor.in_unit(second, commits_first)
        # One batch has committed, the other has not: nothing shipped yet.
        midway = "PR_OPEN" if deployment_commits_first else "MERGED"
        assert await world.stage(ticket["publicId"]) == midway
    await world.drain()
    return await world.stage(ticket["publicId"])


@pytest.mark.parametrize("deployment_commits_first", [True, False])
async def test_the_deployment_of_the_merge_itself_ships_it(pg_world, deployment_commits_first):
    stage = await _merged_and_deployed_at_once(
        pg_world, MERGE_SHA, deployment_commits_first=deployment_commits_first
    )
    assert stage == "DEPLOYED"


@pytest.mark.parametrize("deployment_commits_first", [True, False])
async def test_a_later_deployment_that_contains_the_merge_ships_it(
    pg_world, fake_github, deployment_commits_first
):
    fake_github.add_commits(OWNER, REPO, [MERGE_SHA, LATER_SHA])
    stage = await _merged_and_deployed_at_once(
        pg_world, LATER_SHA, deployment_commits_first=deployment_commits_first
    )
    assert stage == "DEPLOYED"


@pytest.mark.parametrize("deployment_commits_first", [True, False])
async def test_a_deployment_without_the_merge_ships_nothing(
    pg_world, fake_github, deployment_commits_first
):
    fake_github.add_commits(OWNER, REPO, ["0" * 40, MERGE_SHA])
    fake_github.add_commits(OWNER, REPO, [ELSEWHERE_SHA], parent="0" * 40, branch="other")
    stage = await _merged_and_deployed_at_once(
        pg_world, ELSEWHERE_SHA, deployment_commits_first=deployment_commits_first
    )
    assert stage == "MERGED"


async def test_each_batch_queues_its_own_check(pg_world):
    """A check already waiting may run before the other batch commits: it covers nothing."""
    await _merged_and_deployed_at_once(pg_world, MERGE_SHA, deployment_commits_first=True)
    async with pg_world.client.app[DB].session() as session:
        kinds = (await session.scalars(select(Job.kind))).all()
    assert kinds.count("ship_check") == 2, kinds
