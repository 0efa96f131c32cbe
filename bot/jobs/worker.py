"""Background workers that drain a stored queue (the webhook inbox, the GitHub outbox).

Each worker claims due rows in short transactions, runs its handler on each one outside any
transaction, then records the outcome: done, retried later with exponential backoff and
jitter (or at the time the handler asks for, e.g. GitHub's ``Retry-After``), or parked as
failed once its attempts run out. Workers are app-owned tasks, drained on shutdown.

A worker given a ``shared_handler`` instead claims a batch, runs the handler on each row
in turn and records each outcome, all in one transaction (``storage.unit.BatchTransaction``): the
handler undoes its own failed work (savepoints) and steps outside the transaction for
calls to GitHub. Should the transaction itself fail, the worker works one row at a time
(with ``handler``) for a round.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Generic

from aiohttp import ChainMapProxy, web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.outcomes import GiveUp, RetryLater
from storage import dialect
from storage.database import Database
from storage.repos import queue
from storage.repos.queue import Row
from storage.types import utcnow
from storage.unit import BatchTransaction, Unit

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 2.0
    max_seconds: float = 600.0

    def delay(self, attempts: int) -> float:
        """Full-jitter exponential backoff: a random wait up to base * 2^(attempts-1)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return random.uniform(ceiling / 2, ceiling)


Handler = Callable[[Row], Awaitable[None]]
SharedHandler = Callable[[Row, Unit], Awaitable[None]]


class QueueWorker(Generic[Row]):
    def __init__(
        self,
        db: Database,
        model: type[Row],
        handler: Handler,
        *,
        name: str,
        policy: RetryPolicy = RetryPolicy(),
        lease: dt.timedelta = dt.timedelta(minutes=2),
        batch: int = 20,
        concurrency: int = 4,
        idle_poll_seconds: float = 2.0,
        shared_handler: SharedHandler | None = None,
        linger_seconds: float = 0.0,
        kinds: frozenset[str] | None = None,
    ) -> None:
        self.db = db
        self.model: type[Row] = model
        self.handler = handler
        self.name = name
        self.policy = policy
        self.lease = lease
        self.batch = batch
        self.concurrency = concurrency
        self.idle_poll_seconds = idle_poll_seconds
        self.shared_handler = shared_handler
        # After a batch that was not full, wait this long for more work to gather before
        # claiming again (requests for a waiting job are folded into it: JobRepo.enqueue).
        self.linger_seconds = linger_seconds
        # Jobs only: the kinds this worker claims (None: every kind).
        self.kinds = kinds
        self._one_at_a_time = False
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        # Workers whose queue this one's handler may add to: woken after each success.
        self.feeds: list[QueueWorker] = []

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Claim and process one batch of due rows; returns how many were processed."""
        claimed: list[int] = []
        try:
            return await self._run_batch(claimed)
        except asyncio.CancelledError:
            # Stopped in the middle of a batch (a shutdown past its grace): what this worker
            # claimed and did not finish is due again now, for another process or the next
            # start, not when its lease runs out.
            if claimed:
                await asyncio.shield(self._hand_back(claimed))
            raise

    async def _hand_back(self, claimed: list[int]) -> None:
        try:
            async with self.db.begin() as session:
                released = await queue.release(session, self.model, claimed)
        except Exception:
            log.warning("%s: could not hand back claimed rows", self.name, exc_info=True)
            return
        if released:
            log.info(
                "%s: stopped mid-batch; %d claimed rows handed back",
                self.name,
                released,
                extra={"queue": self.name},
            )

    async def _run_batch(self, claimed: list[int]) -> int:
        if self.shared_handler is None or self._one_at_a_time:
            self._one_at_a_time = False
            return await self._run_one_at_a_time(claimed)
        try:
            return await self._run_shared(claimed)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "%s: a shared transaction failed; working one row at a time for a round",
                self.name,
                extra={"queue": self.name},
            )
            self._one_at_a_time = True
            # Rows whose claim was committed (before a step outside the transaction) but whose
            # outcome was not are due again now, not when their lease runs out.
            with contextlib.suppress(Exception):
                async with self.db.begin() as session:
                    await queue.release(session, self.model, claimed)
            return len(claimed)

    async def _run_one_at_a_time(self, claimed: list[int]) -> int:
        async with self.db.begin() as session:
            rows = await queue.claim(
                session, self.model, limit=self.batch, lease=self.lease, kinds=self.kinds
            )
        claimed += [row.id for row in rows]
        if not rows:
            return 0
        semaphore = asyncio.Semaphore(self.concurrency)
        succeeded: list[int] = []

        async def run(row: Row) -> None:
            async with semaphore:
                if await self._process(row):
                    succeeded.append(row.id)

        try:
            await asyncio.gather(*(run(row) for row in rows))
        finally:
            # One transaction records every success of the batch (a row done but not yet
            # recorded when the process dies is done again: handlers are idempotent).
            if succeeded:
                async with self.db.begin() as session:
                    await queue.complete_many(session, self.model, succeeded, **self._done_values())
                for worker in self.feeds:
                    worker.wake()
        return len(rows)

    async def _run_shared(self, claimed: list[int]) -> int:
        """The batch in one transaction, in order; ``claimed`` gets the ids it claims."""
        assert self.shared_handler is not None
        completed: list[int] = []
        async with BatchTransaction.open(self.db) as unit:
            session = unit.shared_session
            recorded = 0

            async def record_completed() -> None:  # in one statement, before each commit
                nonlocal recorded
                if len(completed) > recorded:
                    done = completed[recorded:]
                    await queue.complete_many(session, self.model, done, **self._done_values())
                    recorded = len(completed)

            unit.before_commit.append(record_completed)
            rows = await queue.claim(
                session, self.model, limit=self.batch, lease=self.lease, kinds=self.kinds
            )
            claimed += [row.id for row in rows]
            for row in rows:
                try:
                    await self.shared_handler(row, unit)
                except Exception as exc:
                    await self._record_failure(row, *self._failure(row, exc), session=session)
                else:
                    completed.append(row.id)
                await unit.let_others_in()  # requests arriving meanwhile; a waiting ack first
        if completed:
            for worker in self.feeds:
                worker.wake()
        return len(claimed)

    async def drain(self, *, max_rounds: int = 10_000) -> int:
        """Process until nothing is due (tests and ``tinydesk`` commands use this)."""
        total = 0
        for _ in range(max_rounds):
            processed = await self.run_once()
            if not processed:
                break
            total += processed
        return total

    async def _process(self, row: Row) -> bool:
        """Run the handler on one row; whether it succeeded (failures are recorded here)."""
        try:
            await self.handler(row)
        except Exception as exc:
            await self._record_failure(row, *self._failure(row, exc))
            return False
        return True

    def _failure(self, row: Row, exc: Exception) -> tuple[str, float | None, bool]:
        """(error, retry after, final) for a handler's exception."""
        if isinstance(exc, GiveUp):
            return f"{exc}", None, True
        if isinstance(exc, RetryLater):
            return f"{exc}", exc.after, False
        if dialect.is_conflict(exc):
            # Another process's batch held what this one needed (PostgreSQL broke the
            # deadlock): nothing is wrong with the row; run it again soon.
            log.warning(
                "%s: row %s lost a conflict with a concurrent transaction; retrying",
                self.name,
                row.id,
                extra={"queue": self.name, "row_id": row.id},
            )
            return f"conflict with a concurrent transaction: {type(exc).__name__}", None, False
        # A bug or an unexpected failure: retried, then parked.
        log.error(
            "%s: row %s failed",
            self.name,
            row.id,
            exc_info=exc,
            extra={"queue": self.name, "row_id": row.id},
        )
        return f"{type(exc).__name__}: {exc}", None, False

    def _done_values(self) -> dict:
        return (
            {"processed_at": utcnow()}
            if hasattr(self.model, "processed_at")
            else {"done_at": utcnow()}
        )

    async def _record_failure(
        self,
        row: Row,
        error: str,
        after: float | None = None,
        final: bool = False,
        *,
        session: AsyncSession | None = None,
    ) -> None:
        if session is None:
            async with self.db.begin() as session:
                await self._record_failure(row, error, after, final, session=session)
            return
        if final or row.attempts >= self.policy.max_attempts:
            log.warning(
                "%s: row %s parked as failed after %s attempts: %s",
                self.name,
                row.id,
                row.attempts,
                error,
                extra={"queue": self.name, "row_id": row.id},
            )
            await queue.fail(session, self.model, row.id, error=error)
            return
        delay = max(after, 0.0) if after is not None else self.policy.delay(row.attempts)
        await queue.retry_later(
            session, self.model, row.id, at=utcnow() + dt.timedelta(seconds=delay), error=error
        )

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                processed = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: could not claim work; retrying shortly", self.name)
                processed = 0
                await asyncio.sleep(self.idle_poll_seconds)
            if processed:
                if processed < self.batch and self.linger_seconds:
                    await self._linger()
                continue
            await self._sleep_until_due()

    async def _linger(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.linger_seconds)

    async def _sleep_until_due(self) -> None:
        timeout = self.idle_poll_seconds
        with contextlib.suppress(Exception):
            async with self.db.session() as session:
                due = await queue.next_due(session, self.model)
            if due is not None:
                timeout = min(timeout, max((due - utcnow()).total_seconds(), 0.01))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    def start(self) -> None:
        self._stopping = False
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name=f"worker:{self.name}")

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Finish the batch in hand (up to the grace period), then stop; cancelled past
        the grace, the worker hands back the rows it claimed and did not finish."""
        self._stopping = True
        self._stop.set()
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None


@dataclasses.dataclass
class Workers:
    """The workers of one process, woken when new work is stored."""

    queues: list[QueueWorker] = dataclasses.field(default_factory=list)

    def wake(self) -> None:
        for worker in self.queues:
            worker.wake()

    async def drain(self) -> int:
        """Run every queue until nothing is due in any (for tests and one-shot commands)."""
        total = 0
        while True:
            processed = 0
            for worker in self.queues:
                processed += await worker.drain()
            total += processed
            if not processed:
                return total


WORKERS = web.AppKey("workers", Workers)


def notify_workers(app: web.Application | ChainMapProxy) -> None:
    workers = app.get(WORKERS)
    if workers is not None:
        workers.wake()
