"""JobRepo: the outbox of work for GitHub, written in the same transaction as its cause."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import queue
from storage.models import Job
from storage.types import utcnow


class JobRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        kind: str,
        args: dict[str, Any],
        *,
        dedupe_key: str | None = None,
        run_at: dt.datetime | None = None,
    ) -> Job | None:
        """Add a job unless one with the same key is still waiting (then it covers this one)."""
        if dedupe_key is not None:
            waiting = await self.session.scalar(
                select(Job.id)
                .where(Job.dedupe_key == dedupe_key, Job.state == queue.PENDING)
                .limit(1)
            )
            if waiting is not None:
                return None
        job = Job(kind=kind, args=args, dedupe_key=dedupe_key, next_attempt_at=run_at or utcnow())
        self.session.add(job)
        await self.session.flush()
        return job
