"""IssueJobRepo: the ``create_issue`` jobs of one ticket (its outbox key ``issue:<id>``), for
asking that its GitHub issue be opened now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import Job, QueueState, Ticket


def dedupe_key(ticket_id: int) -> str:
    return f"issue:{ticket_id}"


class IssueJobRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_ticket(self, kind: str, ticket_id: int) -> Sequence[Job]:
        """Oldest first, with the ticket held until commit (PostgreSQL), so that two requests
        at once cannot both queue one."""
        await self.session.execute(
            dialect.lock_rows(self.session, select(Ticket.id).where(Ticket.id == ticket_id))
        )
        query = (
            select(Job)
            .where(Job.kind == kind, Job.dedupe_key == dedupe_key(ticket_id))
            .order_by(Job.id)
        )
        return (await self.session.scalars(query)).all()

    async def due_now(self, job_id: int, now: dt.datetime) -> None:
        """A waiting job runs at once."""
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == QueueState.PENDING)
            .values(next_attempt_at=now)
        )

    async def add_searching_first(self, kind: str, ticket_id: int, now: dt.datetime) -> Job:
        """A new job that counts as a retry (``attempts`` 1): its first run looks on GitHub
        for an issue an earlier job may have opened (by its hidden marker) before opening
        one, so a ticket never gets two."""
        job = Job(
            kind=kind,
            dedupe_key=dedupe_key(ticket_id),
            args={"ticket_id": ticket_id},
            state=QueueState.PENDING,
            attempts=1,
            next_attempt_at=now,
            created_at=now,
        )
        self.session.add(job)
        await self.session.flush()
        return job
