"""The SQLite engines behind ``Database``: one that writes (inline, on the loop's thread) and
one that reads (aiosqlite's driver thread, so that a long read never holds the loop)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.sqlite import pragmas
from storage.sqlite.inline import connector


def path_of(url: str) -> str:
    return make_url(url).database or ""


def _configure(statements: list[str]) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        pragmas.apply(cursor.execute, statements)
        cursor.close()

    return on_connect


def _take_over_transactions(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, say when transactions begin (see _begin_immediate).
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: Connection) -> None:
    # A writing transaction takes SQLite's write lock up front: two of them never read the
    # same snapshot and then collide on their first write.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, writer: bool = True) -> AsyncEngine:
    """The writer runs its calls inline (``storage.sqlite.inline``) on a database file;
    readers, and an in-memory database, keep aiosqlite's thread."""
    path = path_of(url)
    on_loop = writer and path not in ("", ":memory:")
    engine = (
        create_async_engine(url, async_creator=connector(path))
        if on_loop
        else create_async_engine(url)
    )
    statements = (
        pragmas.writing(busy_ms=pragmas.LOOP_BUSY_MS, on_loop=True)
        if on_loop
        else pragmas.writing()
    )
    event.listen(engine.sync_engine, "connect", _configure(statements))
    event.listen(engine.sync_engine, "connect", _take_over_transactions)
    event.listen(engine.sync_engine, "begin", _begin_immediate if writer else _begin_deferred)
    return engine
