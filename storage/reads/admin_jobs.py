"""Read queries behind the admin page of GitHub jobs: the failed ones, and those waiting to
be tried again. Replaying one is ``storage.repos.queue.requeue``, as in the admin API."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Job, QueueState
from storage.repos import queue


async def failed_jobs(session: AsyncSession, *, limit: int = 100) -> Sequence[Job]:
    """Jobs parked as failed, newest first."""
    return await queue.newest(session, Job, state=QueueState.FAILED, limit=limit)


async def retrying_jobs(session: AsyncSession, *, limit: int = 100) -> Sequence[Job]:
    """Pending jobs that have failed at least once, the next to be tried first (the
    ``(state, next_attempt_at, id)`` index gives them in that order)."""
    query = (
        select(Job)
        .where(Job.state == QueueState.PENDING, Job.attempts > 0)
        .order_by(Job.next_attempt_at, Job.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def count_failed_jobs(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Job).where(Job.state == QueueState.FAILED)
    return await session.scalar(query) or 0
