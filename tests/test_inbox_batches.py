"""The inbox worker claims a batch of deliveries and works it in one transaction."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.appkeys import DB
from bot.jobs import worker as workers_module
from bot.jobs.worker import WORKERS
from bot.rules import ids
from storage.models import Delivery, QueueState, StageTransition, Ticket
from storage.repos import queue
from storage.repos.deployments import COMPARISONS
from tests.world import OWNER, REPO
from webhooks import issues as issue_handlers


async def tickets_with_issues(world, count: int) -> list[tuple[dict, int]]:
    """(ticket, its issue number), in the order of the issue numbers."""
    tickets = [await world.submit(subject=f"Problem {i}") for i in range(count)]
    await world.settle()
    async with world.client.app[DB].session() as session:
        issue_of = dict((await session.execute(select(Ticket.id, Ticket.issue_number))).all())
    return sorted(
        ((t, issue_of[ids.parse_public_id(t["publicId"])]) for t in tickets), key=lambda j: j[1]
    )


def inbox(world):
    [worker] = [w for w in world.client.app[WORKERS].queues if w.name == "inbox"]
    return worker


async def deliveries(world) -> list[Delivery]:
    async with world.client.app[DB].session() as session:
        return (await session.scalars(select(Delivery).order_by(Delivery.id))).all()


async def transitions_to(world, stage: str) -> list[StageTransition]:
    async with world.client.app[DB].session() as session:
        query = select(StageTransition).where(StageTransition.to_stage == stage)
        return (await session.scalars(query.order_by(StageTransition.id))).all()


async def test_a_batch_is_claimed_at_once_and_applied_in_order_of_receipt(world):
    journeys = await tickets_with_issues(world, 3)
    for _, n in journeys:
        await world.deliver("issues.assigned", issue_number=n)

    assert await inbox(world).run_once() == 3

    assert [d.state for d in await deliveries(world)] == [QueueState.DONE] * 3
    moved = await transitions_to(world, "FIX_IN_PROGRESS")
    assert [t.delivery_id for t in moved] == [d.delivery_id for d in await deliveries(world)]


async def test_a_failing_delivery_in_a_batch_neither_fails_nor_loses_its_neighbours(
    world, monkeypatch
):
    journeys = await tickets_with_issues(world, 3)
    (first, _), (second, broken_issue), (third, _) = journeys
    real_apply = issue_handlers.transitions.refresh_tickets

    async def apply_then_fail_on_one_issue(session, tickets, *args, **kwargs):
        moved = await real_apply(session, tickets, *args, **kwargs)  # writes, then fails
        if any(t.issue_number == broken_issue for t in tickets):
            raise RuntimeError("simulated failure after writing")
        return moved

    monkeypatch.setattr(issue_handlers.transitions, "refresh_tickets", apply_then_fail_on_one_issue)
    for _, n in journeys:
        await world.deliver("issues.assigned", issue_number=n)

    assert await inbox(world).run_once() == 3

    done, failed, after = await deliveries(world)
    assert (done.state, after.state) == (QueueState.DONE, QueueState.DONE)
    assert failed.state == QueueState.PENDING and failed.attempts == 1
    assert "simulated failure after writing" in failed.last_error
    assert await world.stage(first["publicId"]) == "FIX_IN_PROGRESS"
    assert await world.stage(third["publicId"]) == "FIX_IN_PROGRESS"
    # Its own writes were undone with it.
    assert await world.stage(second["publicId"]) == "ISSUE_CREATED"
    assert len(await transitions_to(world, "FIX_IN_PROGRESS")) == 2

    monkeypatch.undo()
    await world.settle()
    assert await world.stage(second["publicId"]) == "FIX_IN_PROGRESS"
    moved = await transitions_to(world, "FIX_IN_PROGRESS")
    assert sorted(t.delivery_id for t in moved) == sorted(
        d.delivery_id for d in await deliveries(world)
    )


async def test_when_the_shared_transaction_fails_the_batch_is_worked_one_at_a_time(
    world, monkeypatch
):
    journeys = await tickets_with_issues(world, 3)
    for _, n in journeys:
        await world.deliver("issues.assigned", issue_number=n)
    real_complete = queue.complete_many
    calls = 0

    async def complete_failing_once(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("simulated database failure")
        await real_complete(*args, **kwargs)

    monkeypatch.setattr(workers_module.queue, "complete_many", complete_failing_once)
    worker = inbox(world)
    await worker.run_once()  # the transaction fails: nothing of it is kept
    async with world.client.app[DB].session() as session:
        assert (await queue.counts(session, Delivery))["done"] == 0
    assert await worker.run_once() == 3  # one at a time, each in its own transactions

    assert [d.state for d in await deliveries(world)] == [QueueState.DONE] * 3
    for ticket, _ in journeys:
        assert await world.stage(ticket["publicId"]) == "FIX_IN_PROGRESS"
    assert len(await transitions_to(world, "FIX_IN_PROGRESS")) == 3


async def test_a_handler_that_asks_github_in_a_batch_keeps_its_neighbours(world):
    """The deployment needs GitHub's compare: the batch commits what it has, asks, goes on."""
    journeys = await tickets_with_issues(world, 2)
    (shipped, n), (assigned, m) = journeys
    merge, deployed = "d00d" * 10, "f00d" * 10
    COMPARISONS.clear()  # GitHub's answers are remembered per process
    world.fake.add_commits(OWNER, REPO, [merge, deployed])
    await world.merge(n, world.add_fix(n), merge)
    await world.deploy(deployed)
    await world.deliver("issues.assigned", issue_number=m)

    assert await inbox(world).run_once() == 3

    assert await world.stage(shipped["publicId"]) == "DEPLOYED"
    assert await world.stage(assigned["publicId"]) == "FIX_IN_PROGRESS"
    assert world.fake.count("GET /repos/{owner}/{repo}/compare/{basehead}") == 1
    async with world.client.app[DB].session() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.state != QueueState.DONE)
            )
            == 0
        )
