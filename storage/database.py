"""The Database: one engine, one sessionmaker, and ``begin()`` as the unit of work.

This is the only place where SQLite and PostgreSQL are treated differently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import dialect, inline_sqlite
from storage.reader import Reader

T = TypeVar("T")

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite+aiosqlite:///tinydesk.db"

# How long a direct write waits for another process's write lock before it gives up (and
# its caller takes the ordinary path, which waits in a driver thread, not on the loop).
DIRECT_WRITE_BUSY_MS = 50

# How often the WAL is copied into the database file (writers on the loop never do it).
CHECKPOINT_SECONDS = 1.0


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _take_over_transactions(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the driver, say when transactions begin (see _begin_immediate).
    dbapi_connection.isolation_level = None


def _begin_immediate(conn) -> None:
    # A writing transaction takes SQLite's write lock up front: two of them never read the
    # same snapshot and then collide on their first write.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, pool_size: int = 10, writer: bool = True) -> AsyncEngine:
    if url.startswith("sqlite"):
        # The writer runs its calls inline (storage.inline_sqlite); readers keep aiosqlite's
        # thread, so that a long read never holds the loop.
        path = make_url(url).database or ""
        inline = writer and path not in ("", ":memory:")
        engine = (
            create_async_engine(url, async_creator=inline_sqlite.connector(path))
            if inline
            else create_async_engine(url)
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        if inline:
            event.listen(engine.sync_engine, "connect", inline_sqlite.configure_inline)
        event.listen(engine.sync_engine, "connect", _take_over_transactions)
        event.listen(engine.sync_engine, "begin", _begin_immediate if writer else _begin_deferred)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    """Owns the engine. ``async with db.begin() as session`` commits on success."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # On SQLite, reads get an engine of their own that does not take the write lock.
        self.read_engine = (
            make_engine(url, writer=False) if self.engine.dialect.name == "sqlite" else self.engine
        )
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # SQLite has one writer at a time. Without this lock, concurrent writers of this
        # process wait inside SQLite's busy handler, which sleeps (up to 100 ms a try) in
        # driver threads: throughput collapses and latencies reach seconds under load. With
        # it they queue here, in order, and each BEGIN IMMEDIATE finds the lock free.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Plain SQL for the hot reads (tracking polls), opened on first use.
        self.reader = Reader.for_url(url)
        self._direct: sqlite3.Connection | None = None
        self._checkpointer: sqlite3.Connection | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def single_process(self) -> bool:
        """Whether one process works this database (``dialect.single_process``)."""
        return dialect.single_process(self.dialect)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        if self._write_lock is None:
            async with self.sessionmaker() as session, session.begin():
                yield session
            return
        async with self._write_lock, self.sessionmaker() as session, session.begin():
            yield session

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing is committed."""
        async with self.read_sessionmaker() as session:
            yield session

    @contextlib.asynccontextmanager
    async def direct_write(self) -> AsyncIterator[sqlite3.Connection]:
        """SQLite only: a transaction on a plain sqlite3 connection, on the loop's own thread,
        in turn with every other writer of this process. For a few small statements, such
        as storing a group of webhook deliveries, this costs a fraction of a unit of work
        through a driver thread, and a quarter less than the same insert through the
        session on the inline writing engine (webhook ack: 0.27 against 0.34 ms of CPU).
        Raises ``sqlite3.OperationalError`` at once (after ``DIRECT_WRITE_BUSY_MS``) if
        another process holds the write lock."""
        if self._write_lock is None:
            raise RuntimeError("direct writes are for SQLite")
        async with self._write_lock:
            with self._direct_transaction() as connection:
                yield connection

    @contextlib.contextmanager
    def _direct_transaction(self) -> Iterator[sqlite3.Connection]:
        if self._direct is None:
            connection = sqlite3.connect(
                make_url(self.url).database or "", isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout={DIRECT_WRITE_BUSY_MS}")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            # Checkpoints (which write the database file) are run_checkpoints', in a thread.
            connection.execute("PRAGMA wal_autocheckpoint=0")
            self._direct = connection
        connection = self._direct
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    async def checkpoint(self) -> None:
        """SQLite: copy what the WAL holds into the database file, in a thread. The writers
        that run on the loop never checkpoint themselves; ``run_checkpoints`` calls this.
        PASSIVE: it takes no lock that a writer or a reader would wait for."""
        if not self.is_sqlite:
            return
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(
                make_url(self.url).database or "", isolation_level=None, check_same_thread=False
            )
        await asyncio.to_thread(self._checkpointer.execute, "PRAGMA wal_checkpoint(PASSIVE)")

    async def run_checkpoints(self, every_seconds: float = CHECKPOINT_SECONDS) -> None:
        """Checkpoint the WAL every few seconds, for as long as the server runs."""
        if not self.is_sqlite:
            return
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.checkpoint()
            except sqlite3.Error:
                log.warning("SQLite checkpoint failed; will try again", exc_info=True)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        await self.reader.close()
        for connection in (self._direct, self._checkpointer):
            if connection is not None:
                connection.close()
        self._direct = self._checkpointer = None
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


class SharedTransaction:
    """One transaction that a worker runs many pieces of work in, recording their outcomes
    alongside: one commit for a batch instead of several per piece.

    Code written against ``Database`` works unchanged: ``begin()`` and ``session()`` hand
    out the shared session instead of opening their own (nothing commits there); what is
    remembered in ``session.info`` lasts until a piece fails or the transaction commits. Each
    piece runs in a savepoint (``piece()``), so a failing one is undone alone. Work that
    must not hold the transaction (a call to GitHub) goes through ``outside()``: what is
    done so far is committed, and the transaction (and SQLite's write lock) is taken again
    after. Anything else is the real database's.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.shared_session = db.sessionmaker()
        self._savepoint = None
        self._locked = False
        # Run just before every commit: the worker writes what it has finished there.
        self.before_commit: list[Callable[[], Awaitable[None]]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, db: Database) -> AsyncIterator[SharedTransaction]:
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

    def __getattr__(self, name: str):
        return getattr(self.db, name)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        yield self.shared_session
        await self.shared_session.flush()  # errors surface where a commit would raise them

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        yield self.shared_session

    @contextlib.asynccontextmanager
    async def piece(self) -> AsyncIterator[None]:
        """One piece of work: kept if it ends normally, undone if it raises."""
        self._savepoint = await self.shared_session.begin_nested()
        try:
            yield
        except BaseException:
            if self._savepoint.is_active:
                await self._savepoint.rollback()
            self.shared_session.info.clear()  # may hold what the rollback expired
            raise
        else:
            if self._savepoint.is_active:
                await self._savepoint.commit()
        finally:
            self._savepoint = None

    async def outside(self, work: Callable[[], Awaitable[T]]) -> T:
        """Commit what is done, await ``work`` holding no transaction, then carry on."""
        in_piece = self._savepoint is not None
        if in_piece and self._savepoint.is_active:
            await self._savepoint.commit()
        await self._commit()
        self.shared_session.info.clear()  # what was remembered may change meanwhile
        self._unlock()
        try:
            return await work()
        finally:
            await self._lock()
            if in_piece:
                self._savepoint = await self.shared_session.begin_nested()

    async def _commit(self) -> None:
        for hook in self.before_commit:
            await hook()
        await self.shared_session.commit()

    async def _lock(self) -> None:
        if self.db._write_lock is not None:
            await self.db._write_lock.acquire()
            self._locked = True

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            self.db._write_lock.release()
