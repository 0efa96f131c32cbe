"""Every place where TinyDesk treats SQLite and PostgreSQL differently, each behind a name.

Callers ask a question ("lock these rows", "insert unless present", "is one process the
only worker?") and never look at the dialect themselves. Two facts drive the answers:

- SQLite has one writer at a time, and a writing transaction takes the write lock up front
  (``BEGIN IMMEDIATE``): a writer holds the whole database, so rows need no locks, what it
  read is current, and only one process works the queues.
- PostgreSQL has many writers in many processes: rows are locked (``FOR UPDATE``, ``SKIP
  LOCKED`` for claims) and cross-process work is serialised with advisory locks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, Select, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    create_async_engine,
)
from sqlalchemy.orm import InstrumentedAttribute

from storage.reader import PostgresReader, Reader, SQLiteReader
from storage.sqlite import engine as sqlite_engine

T = TypeVar("T")
R = TypeVar("R", bound=Any)

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

Insert = sqlite.Insert | postgresql.Insert
InsertFactory = Callable[[Any], Insert]


def name_of_url(url: str) -> str:
    """``sqlite`` or ``postgresql``, from a database URL."""
    return make_url(url).get_backend_name()


def sqlite_file(url: str) -> str | None:
    """The path of an SQLite database (its fast paths need it); None on PostgreSQL."""
    if name_of_url(url) != SQLITE:
        return None
    return sqlite_engine.path_of(url)


def make_engines(url: str, *, pool_size: int = 10) -> tuple[AsyncEngine, AsyncEngine]:
    """(the engine that writes, the engine that reads). SQLite: two engines (the writer
    inline and taking the write lock up front); PostgreSQL: one pool for both."""
    if name_of_url(url) == SQLITE:
        return sqlite_engine.make_engine(url), sqlite_engine.make_engine(url, writer=False)
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )
    return engine, engine


def make_reader(url: str) -> Reader:
    """The Reader for the hot plain-SQL reads (``storage.reader``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == SQLITE:
        return SQLiteReader(parsed.database or "")
    return PostgresReader(parsed.set(drivername="postgresql").render_as_string(hide_password=False))


def _name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert_factory(name: str) -> InsertFactory:
    return postgresql.insert if name == POSTGRESQL else sqlite.insert


def single_process(name: str) -> bool:
    """Whether one process works the database (SQLite): claims left by a crash are its own,
    and an in-process lock keeps its writers apart."""
    return name == SQLITE


def off_index(name: str, term: str) -> str:
    """``term`` (a column in SQL) kept off any index, where a planner would pick a worse one
    for it: SQLite's unary +; PostgreSQL plans by cost."""
    return f"+{term}" if name == SQLITE else term


def stores_naive_datetimes(dialect: Dialect) -> bool:
    """SQLite has no time zones: timestamps are stored as naive UTC text."""
    return dialect.name == SQLITE


def alters_tables_in_batches(connection: Connection) -> bool:
    """Alembic's batch mode (copy and rename) for the ALTERs that SQLite cannot do."""
    return connection.dialect.name == SQLITE


def insert(session: AsyncSession, entity: Any) -> Insert:
    """The dialect's INSERT for ``entity``, which has ``on_conflict_do_nothing`` (insert
    ignoring a row already there) and ``on_conflict_do_update`` (upsert)."""
    return _insert_factory(_name(session))(entity)


class PerDialect(Generic[T]):
    """One value built for each dialect once (a statement compiled at import), picked by
    the connection it runs on."""

    def __init__(self, build: Callable[[InsertFactory], T]) -> None:
        self._values = {name: build(_insert_factory(name)) for name in (POSTGRESQL, SQLITE)}

    def of(self, connection: AsyncConnection) -> T:
        return self._values[connection.dialect.name]

    def in_session(self, session: AsyncSession) -> T:
        return self._values[_name(session)]


def lock_rows(session: AsyncSession, query: Select[R]) -> Select[R]:
    """Hold the selected rows until commit (PostgreSQL ``FOR UPDATE``). On SQLite the
    writing transaction already holds the whole database."""
    if _name(session) == POSTGRESQL:
        return query.with_for_update()
    return query


class Queries(Generic[R]):
    """A select built once for each dialect (``build`` gets the dialect's name), with its
    ``FOR UPDATE`` twin for PostgreSQL: ``get(session, lock=True)`` is ``lock_rows``."""

    def __init__(self, build: Callable[[str], Select[R]]) -> None:
        self._plain = {name: build(name) for name in (POSTGRESQL, SQLITE)}
        self._held = self._plain[POSTGRESQL].with_for_update()

    def get(self, session: AsyncSession, *, lock: bool = False) -> Select[R]:
        name = _name(session)
        return self._held if lock and name == POSTGRESQL else self._plain[name]


def unindexed(name: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``off_index`` for a table's column in a statement: on SQLite ``+column``, which no
    index serves (where its planner, without statistics, would pick an index that reads
    far more rows, or one that yields the ORDER BY over one that finds the few rows); the
    column itself elsewhere."""
    if name != SQLITE:
        return column
    term = f"+{column.table.name}.{column.name}"
    return literal_column(term, type_=column.type)


def held(session: AsyncSession, plain: Select[R], locked: Select[R]) -> Select[R]:
    """``lock_rows`` for a statement built once at import with its ``FOR UPDATE`` twin
    (building and hashing a statement costs more than running a point read)."""
    return locked if _name(session) == POSTGRESQL else plain


def lock_rows_skipping_locked(session: AsyncSession, query: Select[R]) -> Select[R]:
    """Hold the selected rows until commit, leaving out rows another transaction holds
    (PostgreSQL ``FOR UPDATE SKIP LOCKED``: several processes share a sweep). On SQLite the
    writing transaction already holds the whole database."""
    if _name(session) == POSTGRESQL:
        return query.with_for_update(skip_locked=True)
    return query


# PostgreSQL's SQLSTATEs for a transaction that lost to a concurrent one and may simply be
# run again: deadlock_detected, serialization_failure.
CONFLICT_STATES = frozenset({"40P01", "40001"})


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a concurrent transaction's conflict: worth a
    retry, not a bug (PostgreSQL detects deadlocks between processes' batches)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for attribute in ("sqlstate", "pgcode"):
            if getattr(current, attribute, None) in CONFLICT_STATES:
                return True
        current = current.__cause__ or getattr(current, "orig", None)
    return False


def reads_are_current(session: AsyncSession) -> bool:
    """Whether what this writing transaction read stays current until it commits (SQLite:
    no other writer can change it meanwhile), so it need not be read again under a lock."""
    return _name(session) == SQLITE


def claim_due(
    session: AsyncSession,
    model: type[R],
    due: Callable[[str], ColumnElement[bool]],
    *,
    id_column: InstrumentedAttribute[int],
    limit: int,
) -> Select[R]:
    """The query that claims up to ``limit`` due rows of ``model``, oldest first; ``due``
    gets the dialect's name (a term may have to keep off an index, ``unindexed``)."""
    name = _name(session)
    if name == POSTGRESQL:
        # Several processes share the work: each skips the rows another has locked.
        return (
            select(model)
            .where(due(name))
            .order_by(id_column)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    # The due rows' ids come from an index (deliveries: the claimable ones, in id order);
    # only the chosen rows are read. (Sorting whole rows would read every pending payload,
    # 10-25 KB each, on every claim.)
    chosen = select(id_column).where(due(name)).order_by(id_column).limit(limit).scalar_subquery()
    return select(model).where(id_column.in_(chosen)).order_by(id_column)


def lock_for_migration(connection: Connection, key: int) -> None:
    """Let one of several starting processes migrate while the others wait (PostgreSQL);
    SQLite's write lock already does it."""
    if connection.dialect.name == POSTGRESQL:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")


async def fold_rows(
    session: AsyncSession, table: str, columns: str, folded: str, *, lock_key: int
) -> int:
    """Replace the rows of ``table`` with ``folded`` (a SELECT of ``columns`` over
    ``{source}``), beside writers that keep inserting; returns the rows removed.

    PostgreSQL: one statement deletes exactly the rows it sums, and an advisory lock keeps
    a second folder out (0 if another holds it). SQLite has one writer: fold the rows up
    to the newest id, then delete them."""
    if _name(session) == POSTGRESQL:
        if not await session.scalar(text(f"SELECT pg_try_advisory_xact_lock({lock_key})")):
            return 0
        gone = await session.scalar(
            text(
                f"WITH gone AS (DELETE FROM {table} RETURNING {columns}), "
                f"folded AS (INSERT INTO {table} ({columns}) {folded.format(source='gone')}) "
                "SELECT count(*) FROM gone"
            )
        )
        return int(gone or 0)
    last = await session.scalar(text(f"SELECT max(id) FROM {table}"))
    await session.execute(
        text(
            f"INSERT INTO {table} ({columns}) "
            + folded.format(source=f"(SELECT * FROM {table} WHERE id <= {int(last)})")
        )
    )
    result = await session.execute(text(f"DELETE FROM {table} WHERE id <= {int(last)}"))
    return cast("CursorResult[Any]", result).rowcount or 0
