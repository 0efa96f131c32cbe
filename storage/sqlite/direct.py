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
from concurrent.futures import ThreadPoolExecutor

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
    lock that a writer or a reader would wait for.

    Its connection lives on one thread of its own: opened, used and closed there, in turn.
    A cancelled caller does not stop a checkpoint its thread is running (nothing can), and
    ``close`` is queued behind it, so no statement ever runs on a closed connection and no
    two run on the connection at once. After ``close`` a checkpoint does nothing."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._closed = False

    async def checkpoint(self) -> None:
        if self._closed:
            return
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
        # Cancelling the wrapper drops a checkpoint still queued; one already running
        # finishes in its thread, before anything queued after it (``close``).
        await asyncio.wrap_future(self._thread.submit(self._checkpoint))

    def _checkpoint(self) -> None:  # on the checkpoint thread
        if self._connection is None:
            self._connection = pragmas.connect(self.path)
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _close(self) -> None:  # on the checkpoint thread, after every checkpoint
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def run(self, every_seconds: float = CHECKPOINT_SECONDS) -> None:
        """Checkpoint every few seconds, for as long as the server runs."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.checkpoint()
            except sqlite3.Error:
                log.warning("SQLite checkpoint failed; will try again", exc_info=True)

    async def close(self) -> None:
        """Close the connection once its thread has finished what it runs, then join the
        thread. A cancelled ``close`` still closes (the job is queued) and joins at exit."""
        self._closed = True
        thread, self._thread = self._thread, None
        if thread is None:
            return
        closing = thread.submit(self._close)
        thread.shutdown(wait=False)
        await asyncio.shield(asyncio.wrap_future(closing))
        thread.shutdown(wait=True)  # its queue is empty: the thread ends at once
