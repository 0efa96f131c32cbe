"""JobRepo: the outbox of work for GitHub, written in the same transaction as its cause."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, literal, select
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
    ) -> bool:
        """Add a job unless one with the same key is still waiting (then it covers this one);
        whether it was added. One statement: this runs beside every ticket that moves."""
        now = utcnow()
        jobs = Job.__table__
        values = {
            "kind": kind,
            "dedupe_key": dedupe_key,
            "args": args,
            "state": queue.PENDING,
            "attempts": 0,
            "next_attempt_at": run_at or now,
            "created_at": now,
        }
        if dedupe_key is None:
            await self.session.execute(insert(jobs).values(**values))
            return True
        waiting = (
            select(jobs.c.id)
            .where(jobs.c.dedupe_key == dedupe_key, jobs.c.state == queue.PENDING)
            .exists()
        )
        row = select(*(literal(value, jobs.c[name].type) for name, value in values.items()))
        result = await self.session.execute(
            insert(jobs).from_select(list(values), row.where(~waiting))
        )
        return result.rowcount > 0
