"""The claim/complete/retry cycle shared by the webhook inbox and the GitHub outbox.

A row is ``pending`` until a worker claims it (``processing`` with a lease), then ``done``,
back to ``pending`` with a later ``next_attempt_at``, or ``failed`` with its error. A lease
that runs out (the worker died) makes the row claimable again. On PostgreSQL, rows are
claimed with ``FOR UPDATE SKIP LOCKED`` so that several processes share the work safely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage import dialect
from storage.models import CLAIMABLE_DELIVERIES, Delivery, Job, QueueState
from storage.types import rows_affected, utcnow

Row = TypeVar("Row", Delivery, Job)


MAX_ERROR_CHARS = 4000


async def claim(
    session: AsyncSession,
    model: type[Row],
    *,
    limit: int,
    lease: dt.timedelta,
    kinds: frozenset[str] | None = None,
) -> Sequence[Row]:
    """Claim up to ``limit`` due rows; ``kinds`` (jobs only) keeps to those kinds of job, so
    that the GitHub outbox and the notification worker each take their own."""
    now = utcnow()
    if kinds is not None and model is not Job:
        raise TypeError("only jobs have kinds")

    through_claimable = issubclass(model, Delivery)

    def due(name: str) -> ColumnElement[bool]:
        state: ColumnElement[Any] = model.__table__.c.state
        if through_claimable:
            # Through ix_deliveries_claimable: its term, and the state kept off other indexes.
            state = dialect.unindexed(name, state)
        condition = or_(
            and_(state == QueueState.PENDING, model.next_attempt_at <= now),
            and_(state == QueueState.PROCESSING, model.claimed_until < now),
        )
        if through_claimable:
            condition = and_(text(CLAIMABLE_DELIVERIES[name]), condition)
        if kinds is not None:
            condition = and_(condition, Job.kind.in_(sorted(kinds)))
        return condition

    query = dialect.claim_due(session, model, due, id_column=model.id, limit=limit)
    rows = (await session.scalars(query)).all()
    if rows:
        await session.execute(
            update(model)
            .where(model.id.in_([row.id for row in rows]))
            .values(
                state=QueueState.PROCESSING,
                claimed_until=now + lease,
                attempts=model.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        for row in rows:  # as stored now, so that the session has nothing left to write
            set_committed_value(row, "state", QueueState.PROCESSING)
            set_committed_value(row, "claimed_until", now + lease)
            set_committed_value(row, "attempts", row.attempts + 1)
    return rows


async def complete(session: AsyncSession, model: type[Row], row_id: int, **values: Any) -> None:
    values.setdefault("state", QueueState.DONE)
    values.setdefault("claimed_until", None)
    values.setdefault("last_error", None)
    await session.execute(update(model).where(model.id == row_id).values(**values))


async def complete_many(
    session: AsyncSession, model: type[Row], row_ids: Sequence[int], **values: Any
) -> None:
    values.setdefault("state", QueueState.DONE)
    values.setdefault("claimed_until", None)
    values.setdefault("last_error", None)
    await session.execute(update(model).where(model.id.in_(list(row_ids))).values(**values))


async def retry_later(
    session: AsyncSession, model: type[Row], row_id: int, *, at: dt.datetime, error: str
) -> None:
    await session.execute(
        update(model)
        .where(model.id == row_id)
        .values(
            state=QueueState.PENDING,
            next_attempt_at=at,
            claimed_until=None,
            last_error=error[:MAX_ERROR_CHARS],
        )
    )


async def fail(session: AsyncSession, model: type[Row], row_id: int, *, error: str) -> None:
    await session.execute(
        update(model)
        .where(model.id == row_id)
        .values(state=QueueState.FAILED, claimed_until=None, last_error=error[:MAX_ERROR_CHARS])
    )


async def requeue(session: AsyncSession, model: type[Row], row_id: int) -> bool:
    """Send a failed row round again (admin replay): attempts start over."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.state == QueueState.FAILED)
        .values(state=QueueState.PENDING, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
    )
    return rows_affected(result) > 0


async def release(session: AsyncSession, model: type[Row], row_ids: Sequence[int]) -> int:
    """Make these claimed rows due again now (a worker hands back what it could not finish)."""
    if not row_ids:
        return 0
    result = await session.execute(
        update(model)
        .where(model.id.in_(list(row_ids)), model.state == QueueState.PROCESSING)
        .values(state=QueueState.PENDING, claimed_until=None, next_attempt_at=utcnow())
    )
    return rows_affected(result)


async def release_claims(session: AsyncSession, model: type[Row]) -> int:
    """Make every claimed row pending again: for a single-process start after a crash."""
    result = await session.execute(
        update(model)
        .where(model.state == QueueState.PROCESSING)
        .values(state=QueueState.PENDING, claimed_until=None, next_attempt_at=utcnow())
    )
    return rows_affected(result)


async def newest(
    session: AsyncSession,
    model: type[Row],
    *,
    state: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[Row]:
    """Rows newest first, optionally in one state, keyset-paged by row id (for admins)."""
    query = select(model).order_by(model.id.desc()).limit(limit)
    if state:
        query = query.where(model.state == state)
    if before_id is not None:
        query = query.where(model.id < before_id)
    return (await session.scalars(query)).all()


async def next_due(session: AsyncSession, model: type[Row]) -> dt.datetime | None:
    """When the earliest pending row becomes due, so an idle worker knows how long to sleep."""
    pending = await session.scalar(
        select(func.min(model.next_attempt_at)).where(model.state == QueueState.PENDING)
    )
    leased = await session.scalar(
        select(func.min(model.claimed_until)).where(model.state == QueueState.PROCESSING)
    )
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None


async def counts(session: AsyncSession, model: type[Row]) -> dict[str, int]:
    rows = await session.execute(select(model.state, func.count()).group_by(model.state))
    found = {state: count for state, count in rows.all()}
    return {state: found.get(state, 0) for state in QueueState}
