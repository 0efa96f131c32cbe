"""InboxWriter: stores verified deliveries with group commit.

Every delivery that arrives while a transaction is committing goes into the next one, so a
burst of N deliveries costs a few transactions instead of N, and a lone delivery is written
at once (no timer, no added wait). Each request is answered only after the transaction
holding its delivery has committed. On SQLite the group goes through a direct write
(``storage.sqlite.direct``) unless another process holds the write lock; on PostgreSQL it is
one plain statement on an asyncpg pool of the writer's own (as ``storage.limits`` keeps its
counters), not a session's unit of work.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from storage import dialect
from storage.database import Database
from storage.reader import Reader
from storage.repos.deliveries import (
    IncomingDelivery,
    record_deliveries,
    record_deliveries_directly,
    record_deliveries_plain,
)

log = logging.getLogger(__name__)

# Deliveries per transaction at most (5 parameters each: far below either database's limit).
MAX_GROUP = 256


class InboxWriter:
    """``await writer.store(delivery)`` → True if new, False if its id was already stored."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[tuple[IncomingDelivery, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._plain: Reader | None = (
            dialect.make_reader(db.url) if db.dialect == dialect.POSTGRESQL else None
        )

    async def store(self, delivery: IncomingDelivery) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="inbox-writer")
        # Shielded: a client that hangs up does not cancel the write its neighbours share.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            try:
                inserted = await self._record([d for d, _ in group])
            except Exception as exc:  # every request of the group answers with the error
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for delivery, future in group:
                is_new = delivery.delivery_id in inserted
                # The same id twice in one group: the first is new, the second a redelivery.
                inserted.discard(delivery.delivery_id)
                if not future.done():
                    future.set_result(is_new)

    async def _record(self, deliveries: list[IncomingDelivery]) -> set[str]:
        if self.db.direct is not None:  # SQLite
            try:
                async with self.db.direct.transaction() as connection:
                    return record_deliveries_directly(connection, deliveries)
            except sqlite3.OperationalError:
                # Another process holds the write lock: wait for it in a driver thread.
                log.info("inbox: database busy; storing %d in a thread", len(deliveries))
        if self._plain is not None:  # PostgreSQL
            return await record_deliveries_plain(self._plain, deliveries)
        async with self.db.begin() as session:
            return await record_deliveries(session, deliveries)

    async def close(self) -> None:
        """Finish writing what was handed over (at shutdown)."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._plain is not None:
            await self._plain.close()
