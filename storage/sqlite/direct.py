"""Direct writes and WAL checkpoints: plain sqlite3 connections beside the engines.

A direct write is a transaction on a plain sqlite3 connection, on the loop's own thread,
in turn with every other writer of this process (``Database``'s write lock). For a few
small statements, such as storing a group of webhook deliveries, this costs a fraction of
a unit of work through a driver thread, and less than the same insert through the session
on the inline writing engine (measured: bench/README.md). The writers on the loop never
checkpoint; ``Checkpointer`` copies the WAL into the database file in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator

from storage.sqlite import pragmas

log = logging.getLogger(__name__)

# How often the WAL is copied into the database file (writers on the loop never do it).
CHECKPOINT_SECONDS = 1.0


class DirectWriter:
    """``async with writer.transaction() as connection``: commits on success. Raises
    ``sqlite3.OperationalError`` at once (after ``pragmas.LOOP_BUSY_MS``) if another
    process holds the write lock."""

    def __init__(self, path: str, write_lock: asyncio.Lock) -> None:
        self.path = path
        self._write_lock = write_lock
        self._connection: sqlite3.Connection | None = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[sqlite3.Connection]:
        async with self._write_lock:
            with self._transaction() as connection:
                yield connection

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self._connection is None:
            self._connection = pragmas.connect(
                self.path, statements=pragmas.writing(busy_ms=pragmas.LOOP_BUSY_MS, on_loop=True)
            )
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class Checkpointer:
    """Copies what the WAL holds into the database file, in a thread. PASSIVE: it takes no
    lock that a writer or a reader would wait for."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        # The checkpoint running in a thread: a cancelled caller does not stop it, and
        # closing its connection under it would crash the process.
        self._running: asyncio.Future[sqlite3.Cursor] | None = None

    async def checkpoint(self) -> None:
        if self._connection is None:
            self._connection = pragmas.connect(self.path)
        running = self._running = asyncio.ensure_future(
            asyncio.to_thread(self._connection.execute, "PRAGMA wal_checkpoint(PASSIVE)")
        )
        await asyncio.shield(running)

    async def run(self, every_seconds: float = CHECKPOINT_SECONDS) -> None:
        """Checkpoint every few seconds, for as long as the server runs."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.checkpoint()
            except sqlite3.Error:
                log.warning("SQLite checkpoint failed; will try again", exc_info=True)

    async def close(self) -> None:
        """Close the connection, once a checkpoint in its thread has finished."""
        if self._running is not None:
            await asyncio.wait([self._running])
            self._running = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
