"""How TinyDesk opens SQLite connections: the one list of PRAGMAs, per kind of connection.

Every connection that may write gets the same settings (foreign keys, WAL, synchronous
NORMAL); those that run on the event loop's thread (the inline writing engine, direct
writes) wait only briefly for another process's write lock and never checkpoint (the
checkpointer does it in a thread); the Reader's connection is read-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

# A connection on a driver thread waits this long for another writer.
THREAD_BUSY_MS = 10_000
# A call on the loop's thread waits this long for another process's write lock; then it
# gives up (and waits in a thread, or its caller takes the ordinary path).
LOOP_BUSY_MS = 50
# The Reader's connection (in WAL mode a reader waits only while the WAL is reset).
READER_BUSY_MS = 2000


def writing(*, busy_ms: int = THREAD_BUSY_MS, on_loop: bool = False) -> list[str]:
    """The PRAGMAs of a connection that may write, in the order they are set."""
    statements = [
        f"PRAGMA busy_timeout={busy_ms}",
        "PRAGMA foreign_keys=ON",
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
    ]
    if on_loop:
        # Checkpoints copy the WAL into the database file and fsync it, tens of
        # milliseconds: the checkpointer runs them in a thread instead.
        statements.append("PRAGMA wal_autocheckpoint=0")
    return statements


def read_only() -> list[str]:
    return [f"PRAGMA busy_timeout={READER_BUSY_MS}", "PRAGMA query_only=1"]


def apply(execute: Callable[[str], object], statements: list[str]) -> None:
    for statement in statements:
        execute(statement)


def connect(path: str, *, statements: list[str] | None = None) -> sqlite3.Connection:
    """A plain sqlite3 connection to ``path`` that leaves transactions to its caller."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    apply(connection.execute, statements or [])
    return connection


def connect_read_only(path: str) -> sqlite3.Connection:
    """The Reader's connection: read-only, on whichever thread uses it."""
    connection = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    apply(connection.execute, read_only())
    return connection
