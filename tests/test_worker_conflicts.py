"""A deadlock between two processes' transactions (PostgreSQL breaks it by failing one) is a
conflict to retry, not a bug: the worker logs one warning line, no traceback, and runs the
row again. The deadlock here is a real one, made with two connections."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.jobs.kinds import JobKind
from bot.jobs.worker import QueueWorker
from storage import dialect
from storage.database import Database
from storage.models import Job
from storage.repos.jobs import JobRepo
from storage.types import utcnow


async def real_deadlock(url: str) -> BaseException:
    """Two transactions that each lock a row the other then wants; one of them fails."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("CREATE TABLE IF NOT EXISTS deadlock_rows (id int PRIMARY KEY)")
            )
            await conn.execute(
                text("INSERT INTO deadlock_rows VALUES (1), (2) ON CONFLICT DO NOTHING")
            )
        both_hold = asyncio.Barrier(2)

        async def lock(first: int, second: int) -> None:
            async with engine.begin() as conn:
                await conn.execute(
                    text(f"SELECT * FROM deadlock_rows WHERE id = {first} FOR UPDATE")
                )
                await both_hold.wait()
                await conn.execute(
                    text(f"SELECT * FROM deadlock_rows WHERE id = {second} FOR UPDATE")
                )

        results = await asyncio.gather(lock(1, 2), lock(2, 1), return_exceptions=True)
        [failure] = [r for r in results if isinstance(r, BaseException)]
        return failure
    finally:
        await engine.dispose()


async def test_a_real_deadlock_is_recognised_as_a_conflict(postgres_url):
    failure = await real_deadlock(postgres_url)
    assert isinstance(failure, DBAPIError)
    assert dialect.is_conflict(failure)
    assert not dialect.is_conflict(ValueError("a bug"))
    assert not dialect.is_conflict(RuntimeError("wrapped"))


async def test_the_worker_retries_a_conflict_with_one_warning_and_no_traceback(
    postgres_url, caplog
):
    failure = await real_deadlock(postgres_url)
    db = Database(postgres_url, pool_size=2)
    calls = []

    async def handler(row: Job) -> None:
        calls.append(row.id)
        if len(calls) == 1:
            raise failure

    try:
        async with db.begin() as session:
            await session.execute(delete(Job))
            await JobRepo(session).enqueue(JobKind.SHIP_CHECK, {"product_id": 1})
        worker = QueueWorker(db, Job, handler, name="outbox", concurrency=1)
        with caplog.at_level(logging.INFO, logger="bot.jobs.worker"):
            await worker.run_once()
        [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert record.levelno == logging.WARNING and record.exc_info is None
        assert "conflict with a concurrent transaction" in record.getMessage()
        async with db.begin() as session:
            job = await session.scalar(select(Job))
            assert job.state == "pending" and job.last_error.startswith("conflict")
            job.next_attempt_at = utcnow()
        await worker.run_once()
        async with db.session() as session:
            assert (await session.scalar(select(Job))).state == "done"
        assert len(calls) == 2
    finally:
        await db.dispose()
