"""JobRepo: the outbox of work for GitHub, written in the same transaction as its cause."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String, bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Job, QueueState
from storage.types import UTCDateTime, rows_affected, utcnow


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
        whether it was added."""
        now = utcnow()
        result = await self.session.execute(
            _ENQUEUE,
            {
                "kind": kind,
                "dedupe_key": dedupe_key,
                "args": args,
                "state": QueueState.PENDING,
                "next_attempt_at": run_at or now,
                "created_at": now,
            },
        )
        return rows_affected(result) > 0

    async def resume_waiting(self, *, revive_failed_kind: str, keep_deadlines: str) -> None:
        """Work that waited (for the App to be installed) is due now; failed jobs of
        ``revive_failed_kind`` start over. Jobs of ``keep_deadlines`` run at a stored
        deadline that nothing shortens (the close grace period)."""
        await self.session.execute(
            update(Job)
            .where(Job.state == QueueState.PENDING, Job.kind != keep_deadlines)
            .values(next_attempt_at=utcnow())
        )
        await self.session.execute(
            update(Job)
            .where(Job.state == QueueState.FAILED, Job.kind == revive_failed_kind)
            .values(state=QueueState.PENDING, attempts=0, next_attempt_at=utcnow())
        )


# One plain statement (this runs beside every ticket that moves): the dedupe check and the
# insert together. A job without a key is always added (nothing equals NULL).
_ENQUEUE = text(
    f"INSERT INTO {Job.__tablename__} "
    "(kind, dedupe_key, args, state, attempts, next_attempt_at, created_at) "
    "SELECT :kind, :dedupe_key, :args, :state, 0, :next_attempt_at, :created_at "
    "WHERE NOT EXISTS "
    f"(SELECT 1 FROM {Job.__tablename__} WHERE dedupe_key = :dedupe_key AND state = :state)"
).bindparams(
    bindparam("kind", type_=String()),
    bindparam("dedupe_key", type_=String()),
    bindparam("args", type_=JSON()),
    bindparam("state", type_=String()),
    bindparam("next_attempt_at", type_=UTCDateTime()),
    bindparam("created_at", type_=UTCDateTime()),
)
