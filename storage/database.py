"""The Database: one engine, one sessionmaker, and ``begin()`` as the unit of work.

Everybody reaches the database through this class. Where SQLite and PostgreSQL differ,
``storage.dialect`` answers; the SQLite fast paths (inline writing engine, direct writes,
checkpoints, the one PRAGMA list) are in ``storage.sqlite``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import dialect
from storage.reader import Reader
from storage.sqlite.direct import Checkpointer, DirectWriter
from storage.sqlite.write_lock import WriteLock

DEFAULT_URL = "sqlite+aiosqlite:///tinydesk.db"


class Database:
    """Owns the engine. ``async with db.begin() as session`` commits on success."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.dialect = dialect.name_of_url(url)
        # On SQLite, reads get an engine of their own that does not take the write lock.
        self.engine, self.read_engine = dialect.make_engines(url, pool_size=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # SQLite has one writer at a time. Without this lock, concurrent writers of this
        # process wait inside SQLite's busy handler, which sleeps (up to 100 ms a try) in
        # driver threads: throughput collapses and latencies reach seconds under load. With
        # it they queue here, in order, and each BEGIN IMMEDIATE finds the lock free.
        self.write_lock: WriteLock | None = (
            WriteLock() if dialect.single_process(self.dialect) else None
        )
        # Plain SQL for the hot reads (tracking polls), opened on first use.
        self.reader: Reader = dialect.make_reader(url)
        # SQLite: the inbox's direct writes, and the WAL checkpoints (None on PostgreSQL).
        self.direct: DirectWriter | None = None
        self._checkpointer: Checkpointer | None = None
        path = dialect.sqlite_file(url)
        if path is not None and self.write_lock is not None:
            self.direct = DirectWriter(path, self.write_lock)
            self._checkpointer = Checkpointer(path)

    @property
    def is_sqlite(self) -> bool:
        """For tests and diagnostics; code asks ``storage.dialect`` or ``single_process``."""
        return self.dialect == dialect.SQLITE

    @property
    def single_process(self) -> bool:
        """Whether one process works this database (``dialect.single_process``)."""
        return dialect.single_process(self.dialect)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """A transaction of its own, committed when the block ends without an error."""
        if self.write_lock is None:
            async with self.sessionmaker() as session, session.begin():
                yield session
            return
        async with self.write_lock, self.sessionmaker() as session, session.begin():
            yield session

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing is committed."""
        async with self.read_sessionmaker() as session:
            yield session

    @contextlib.asynccontextmanager
    async def direct_write(self) -> AsyncIterator[sqlite3.Connection]:
        """SQLite only: ``storage.sqlite.direct.DirectWriter.transaction``."""
        if self.direct is None:
            raise RuntimeError("direct writes are for SQLite")
        async with self.direct.transaction() as connection:
            yield connection

    async def checkpoint(self) -> None:
        """SQLite: copy what the WAL holds into the database file, in a thread."""
        if self._checkpointer is not None:
            await self._checkpointer.checkpoint()

    async def run_checkpoints(self) -> None:
        """SQLite: checkpoint the WAL every few seconds, for as long as the server runs."""
        if self._checkpointer is not None:
            await self._checkpointer.run()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        await self.reader.close()
        if self.direct is not None:
            self.direct.close()
        if self._checkpointer is not None:
            await self._checkpointer.close()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
