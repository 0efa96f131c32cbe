"""A worker stopped past its grace hands back what it claimed (bot.jobs.worker.QueueWorker.stop).

At shutdown each worker has a grace period to finish the batch in hand; past it, it is
cancelled. Rows it claimed and did not finish must then be due again at once (for another
process on PostgreSQL, or the next start), not stuck "processing" until their lease runs out.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.jobs.worker import QueueWorker
from storage.models import Delivery, Job, QueueState


async def test_a_worker_cancelled_mid_batch_hands_back_its_claims(db):
    async with db.begin() as session:
        session.add_all([Job(kind="noop", args={}) for _ in range(3)])
    entered = asyncio.Event()

    async def hangs(row: Job) -> None:  # a call to GitHub that does not answer
        entered.set()
        await asyncio.Event().wait()

    worker = QueueWorker(db, Job, hangs, name="outbox", concurrency=2)
    worker.start()
    await asyncio.wait_for(entered.wait(), 10)
    await worker.stop(grace_seconds=0.1)

    async with db.session() as session:
        jobs = (await session.scalars(select(Job))).all()
    assert {job.state for job in jobs} == {QueueState.PENDING}
    assert all(job.claimed_until is None for job in jobs)


async def test_a_shared_batch_cancelled_mid_way_leaves_nothing_claimed(db):
    async with db.begin() as session:
        session.add_all(
            [Delivery(delivery_id=f"d{n}", event="ping", payload="{}") for n in range(3)]
        )
    entered = asyncio.Event()

    async def hangs_outside(row: Delivery, unit) -> None:
        async def github() -> None:  # the batch's claim is committed before this step
            entered.set()
            await asyncio.Event().wait()

        await unit.outside(github)

    async def one(row: Delivery) -> None:
        raise AssertionError("the shared path is the one under test")

    worker = QueueWorker(db, Delivery, one, name="inbox", shared_handler=hangs_outside)
    worker.start()
    await asyncio.wait_for(entered.wait(), 10)
    await worker.stop(grace_seconds=0.1)

    async with db.session() as session:
        deliveries = (await session.scalars(select(Delivery))).all()
    assert {d.state for d in deliveries} == {QueueState.PENDING}
    assert all(d.claimed_until is None for d in deliveries)
