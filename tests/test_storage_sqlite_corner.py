"""The SQLite corner (storage.sqlite): every kind of connection gets its settings from the
one PRAGMA list, and closing the database never pulls a connection from under a
checkpoint still running in its thread."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage.database import Database
from storage.sqlite import pragmas

WRITING = {"foreign_keys": 1, "journal_mode": "wal", "synchronous": 1}


async def pragma_values(session, names) -> dict[str, object]:
    return {name: await session.scalar(text(f"PRAGMA {name}")) for name in names}


async def test_every_connection_kind_takes_the_one_list(db):
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    names = [*WRITING, "busy_timeout", "wal_autocheckpoint"]
    async with db.begin() as session:  # the inline writer, on the loop
        inline = await pragma_values(session, names)
    async with db.session() as session:  # the reading engine, on aiosqlite's thread
        reading = await pragma_values(session, names)
    async with db.direct_write() as connection:
        direct = {name: connection.execute(f"PRAGMA {name}").fetchone()[0] for name in names}
    reader = await db.reader.fetch("PRAGMA query_only")

    assert inline == {**WRITING, "busy_timeout": pragmas.LOOP_BUSY_MS, "wal_autocheckpoint": 0}
    assert direct == inline
    assert reading == {
        **WRITING, "busy_timeout": pragmas.THREAD_BUSY_MS, "wal_autocheckpoint": 1000
    }
    assert reader == [(1,)]


async def test_closing_waits_for_a_checkpoint_in_its_thread(database_url):
    db = Database(database_url)
    if not db.is_sqlite:
        await db.dispose()
        pytest.skip("SQLite only")
    async with db.begin() as session:
        await session.execute(text("CREATE TABLE scratch (n INTEGER)"))
        await session.execute(text("INSERT INTO scratch VALUES (1)"))
    checkpoint = asyncio.create_task(db.checkpoint())
    await asyncio.sleep(0)  # the checkpoint is handed to its thread
    checkpoint.cancel()  # as the server's checkpoint task is, at shutdown
    await db.dispose()  # waits for the thread, then closes its connection
    assert db._checkpointer is not None and db._checkpointer._connection is None
    with pytest.raises(asyncio.CancelledError):
        await checkpoint
