"""The unit of work that code writes in, said explicitly: ``OwnTransactions`` (every
``begin()`` commits on its own) or ``BatchTransaction`` (a batch of handlers shares one
transaction, each in a savepoint, and nothing commits until the batch does).

Webhook handlers are written against ``Unit`` and work the same in either; what differs is
only *when* their writes commit, which the class in hand says by its name.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from storage.database import Database

T = TypeVar("T")

# A batch that has held SQLite's write lock this long lets a writer waiting for it (a
# webhook acknowledgement, whose answer waits for its commit) go first: issue 20's ack p99
# is 30 ms, and a batch of 20 deliveries holds the lock for about 100 ms.
SHARE_WRITE_LOCK_AFTER_S = 0.010


class Unit(Protocol):
    """What a handler writes and reads in."""

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session to write in. Its writes commit when the unit commits: at the end of
        the block (``OwnTransactions``) or with the batch (``BatchTransaction``)."""
        ...

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session to read in."""
        ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """One handler's work: undone alone if it raises."""
        ...

    async def outside(self, work: Callable[[], Awaitable[T]]) -> T:
        """Await ``work`` (calls to GitHub) holding no transaction."""
        ...


class OwnTransactions:
    """Every ``begin()`` is a transaction of its own, committed when its block ends."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.db.begin()

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.db.session()

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        # Each begin() already commits or rolls back alone: nothing more to undo.
        yield

    async def outside(self, work: Callable[[], Awaitable[T]]) -> T:
        return await work()


class BatchTransaction:
    """One transaction that a worker runs many pieces of work in, recording their outcomes
    alongside: one commit for a batch instead of several per piece.

    ``begin()`` and ``session()`` hand out the shared session (``begin()`` only flushes;
    nothing commits there); what is remembered in ``session.info`` lasts until a piece
    fails or the transaction commits. Each piece runs in a ``savepoint()``, so a failing
    one is undone alone. Work that must not hold the transaction (a call to GitHub) goes
    through ``outside()``: what is done so far is committed, and the transaction (and
    SQLite's write lock) is taken again after.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.shared_session = db.sessionmaker()
        self._savepoint: AsyncSessionTransaction | None = None
        self._locked = False
        self._locked_at = 0.0
        # Run just before every commit: the worker writes what it has finished there.
        self.before_commit: list[Callable[[], Awaitable[None]]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, db: Database) -> AsyncIterator[BatchTransaction]:
        """Commits on success; on an error, rolls back whatever was not committed yet."""
        unit = cls(db)
        await unit._lock()
        try:
            yield unit
            await unit._commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await unit.shared_session.rollback()
            raise
        finally:
            with contextlib.suppress(Exception):
                await unit.shared_session.close()
            unit._unlock()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        yield self.shared_session
        await self.shared_session.flush()  # errors surface where a commit would raise them

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        yield self.shared_session

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """One piece of work: kept if it ends normally, undone if it raises."""
        self._savepoint = await self.shared_session.begin_nested()
        try:
            yield
        except BaseException:
            # The current savepoint: outside() replaces it with a new one.
            current = self._savepoint
            if current is not None and current.is_active:
                await current.rollback()
            self.shared_session.info.clear()  # may hold what the rollback expired
            raise
        else:
            current = self._savepoint
            if current is not None and current.is_active:
                await current.commit()
        finally:
            self._savepoint = None

    async def outside(self, work: Callable[[], Awaitable[T]]) -> T:
        """Commit what is done, await ``work`` holding no transaction, then carry on."""
        savepoint = self._savepoint
        if savepoint is not None and savepoint.is_active:
            await savepoint.commit()
        await self._commit()
        self.shared_session.info.clear()  # what was remembered may change meanwhile
        self._unlock()
        try:
            return await work()
        finally:
            await self._lock()
            if savepoint is not None:
                self._savepoint = await self.shared_session.begin_nested()

    async def let_others_in(self) -> None:
        """Between two pieces of work. On SQLite the writing engine runs statements on the
        loop (``storage.sqlite.inline``) and never yields: a batch would hold the loop, and
        every request arriving meanwhile, until it ends. So first the loop runs what is
        ready; then, if another writer of this process waits for the write lock (a webhook
        acknowledgement) and the batch has held it ``SHARE_WRITE_LOCK_AFTER_S``, what is
        done is committed and the batch queues for the lock behind that writer."""
        await asyncio.sleep(0)
        lock = self.db.write_lock
        if lock is None or not self._locked or not lock.waiting:
            return
        if asyncio.get_running_loop().time() - self._locked_at < SHARE_WRITE_LOCK_AFTER_S:
            return
        await self.outside(_nothing)  # commit, release, queue for the lock behind them

    async def _commit(self) -> None:
        for hook in self.before_commit:
            await hook()
        await self.shared_session.commit()

    async def _lock(self) -> None:
        if self.db.write_lock is not None:
            await self.db.write_lock.acquire()
            self._locked = True
            self._locked_at = asyncio.get_running_loop().time()

    def _unlock(self) -> None:
        if self._locked and self.db.write_lock is not None:
            self._locked = False
            self.db.write_lock.release()


async def _nothing() -> None:
    """What ``let_others_in`` does outside the transaction: only waits for the lock again."""
