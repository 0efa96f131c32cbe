"""The inbox of verified GitHub webhook deliveries, keyed by X-GitHub-Delivery: the
statements that store new ones (``storage.inbox_writer`` runs them with group commit)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from storage import dialect
from storage.models import Delivery
from storage.reader import Reader
from storage.types import utcnow


@dataclass(frozen=True, slots=True)
class IncomingDelivery:
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    payload: str


def _insert_new_deliveries(insert: dialect.InsertFactory) -> ReturningInsert[Any]:
    table = Delivery.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(table.c.delivery_id)
    )


# One statement per dialect, compiled once: the rows go as executemany parameters.
INSERT_NEW = dialect.PerDialect(_insert_new_deliveries)


async def record_deliveries(
    session: AsyncSession, deliveries: Sequence[IncomingDelivery]
) -> set[str]:
    """Insert the deliveries whose ids were never seen; the ids that were inserted."""
    connection = await session.connection()
    rows = [
        {
            "delivery_id": d.delivery_id,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "payload": d.payload,
        }
        for d in deliveries
    ]
    result = await connection.execute(INSERT_NEW.of(connection), rows)
    return set(result.scalars())


# SQLite, on the direct connection: one execute per row (sqlite3's executemany returns no rows).
SQLITE_INSERT_NEW = (
    "INSERT INTO deliveries (delivery_id, event, action, installation_id, payload, state, "
    "attempts, next_attempt_at, received_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
    "ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id"
)


def record_deliveries_directly(
    connection: sqlite3.Connection, deliveries: Sequence[IncomingDelivery]
) -> set[str]:
    # The text SQLAlchemy's SQLite DATETIME stores (always with microseconds), naive UTC.
    now = utcnow().replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    inserted = set()
    for d in deliveries:
        row = connection.execute(
            SQLITE_INSERT_NEW,
            (d.delivery_id, d.event, d.action, d.installation_id, d.payload, now, now),
        ).fetchone()
        if row is not None:
            inserted.add(row[0])
    return inserted


# PostgreSQL, on a plain asyncpg pool: a group is one statement, one round trip, its own
# transaction (through the session it was a checkout, BEGIN, the insert and COMMIT: about
# 600 µs of this process's CPU for a lone delivery; bench/store_cost.py). The rows keep the
# order they arrived in, so their ids do too.
POSTGRES_INSERT_NEW = (
    "INSERT INTO deliveries (delivery_id, event, action, installation_id, payload, state, "
    "attempts, next_attempt_at, received_at) "
    "SELECT u.delivery_id, u.event, u.action, u.installation_id, u.payload, 'pending', 0, "
    "$6, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) "
    "WITH ORDINALITY AS u(delivery_id, event, action, installation_id, payload, n) "
    "ORDER BY u.n ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id"
)


async def record_deliveries_plain(sql: Reader, deliveries: Sequence[IncomingDelivery]) -> set[str]:
    """``record_deliveries`` as one plain statement (PostgreSQL)."""
    rows = await sql.fetch(
        POSTGRES_INSERT_NEW,
        [d.delivery_id for d in deliveries],
        [d.event for d in deliveries],
        [d.action for d in deliveries],
        [d.installation_id for d in deliveries],
        [d.payload for d in deliveries],
        utcnow(),
    )
    return {row[0] for row in rows}
