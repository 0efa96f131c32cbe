"""Reader: plain SQL for the hot reads (tracking polls, desk lists), below the ORM.

A point read through an ``AsyncSession`` costs many times the query itself (bench/README.md,
"Reads"): the unit of work, the pool's reset and, on SQLite, the hops to a driver thread.
The tracking page polls, so those reads go straight to the driver:

- SQLite: one read-only ``sqlite3`` connection (``storage.sqlite.pragmas``), used on the
  event loop's own thread. An
  indexed read that returns a bounded number of rows takes tens of microseconds, less than
  handing it to a thread would. In WAL mode a reader never waits for the writer, and with no
  open transaction every statement sees everything committed before it: nothing is stale.
  Only indexed queries with a LIMIT (or a key) belong here; a scan would stall the loop.
- PostgreSQL: an asyncpg pool of its own whose connections skip the reset query on release
  (these reads leave no session state behind), which halves the cost of a read.

Queries use ``$1, $2, …`` placeholders on both databases; ``storage.dialect.make_reader``
picks the Reader for a URL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import re
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from storage.sqlite import pragmas
from storage.sqlite.threads import run_to_the_end

UTC = dt.UTC
POSTGRES_POOL_SIZE = 4
# fetch_bounded: how long a read may hold the loop before it is run again on a thread, and
# how many SQLite VM steps pass between two looks at the clock.
SQLITE_LOOP_BUDGET_S = 0.002
SQLITE_STEPS_PER_CHECK = 4000


class Reader:
    """``await reader.fetch(sql, *args)`` → rows (tuples), on whichever database the URL names."""

    dialect: str

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def fetchrow(self, sql: str, *args: Any) -> Sequence[Any] | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetch_bounded(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        """``fetch`` for a query whose cost depends on the data (a filter that matches few
        rows walks far along its index): on SQLite one that outruns the loop's budget is
        interrupted and run again on a thread, so it never stalls the loop for long."""
        return await self.fetch(sql, *args)

    def instant(self, value: dt.datetime) -> Any:
        """A timestamp as a parameter this database compares with its stored ones."""
        return value.astimezone(UTC)

    async def close(self) -> None:
        raise NotImplementedError


@functools.lru_cache(maxsize=256)
def _sqlite_placeholders(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


class SQLiteReader(Reader):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        return pragmas.connect_read_only(self.path)

    def _opened(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        return self._opened().execute(_sqlite_placeholders(sql), args).fetchall()

    def instant(self, value: dt.datetime) -> Any:
        # SQLAlchemy's SQLite DATETIME text, which sorts as the instants do.
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    async def fetch_bounded(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        connection, sql = self._opened(), _sqlite_placeholders(sql)
        deadline = time.perf_counter() + SQLITE_LOOP_BUDGET_S
        connection.set_progress_handler(
            lambda: time.perf_counter() > deadline, SQLITE_STEPS_PER_CHECK
        )
        try:
            return connection.execute(sql, args).fetchall()
        except sqlite3.OperationalError as error:
            if str(error) != "interrupted":
                raise
        finally:
            connection.set_progress_handler(None, 0)
        # On a connection of its own, closed once the thread has finished with it (a
        # cancelled caller interrupts the query and waits for that).
        own = self._connect()
        try:
            return await run_to_the_end(own, self._fetch_on, own, sql, args)
        finally:
            own.close()

    @staticmethod
    def _fetch_on(connection: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[Any]:
        return connection.execute(sql, args).fetchall()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _NoResetConnection:
    """Mixed into asyncpg's Connection below: release a connection without a reset query."""

    def get_reset_query(self) -> str:
        return ""


class PostgresReader(Reader):
    dialect = "postgresql"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._pool: Any = None  # an asyncpg Pool (asyncpg ships no types)
        self._opening: asyncio.Lock | None = None

    async def _open(self) -> Any:
        import asyncpg

        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                connection_class = type(
                    "ReadConnection", (_NoResetConnection, asyncpg.Connection), {}
                )
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=POSTGRES_POOL_SIZE,
                    connection_class=connection_class,
                )
        return self._pool

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        pool = self._pool or await self._open()
        rows: Sequence[Sequence[Any]] = await pool.fetch(sql, *args)
        return rows

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def utc(value: str | dt.datetime | None) -> dt.datetime | None:
    """A timestamp column as an aware UTC datetime (SQLite keeps naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
