"""SQLite's writing engine runs its calls inline on the loop (storage.sqlite.inline)."""

from __future__ import annotations

import asyncio
import os
import sqlite3

import pytest
from sqlalchemy import func, make_url, select
from sqlalchemy.exc import IntegrityError

from storage.models import Product
from storage.sqlite.inline import InlineConnection


def product(slug: str) -> Product:
    return Product(slug=slug, name=slug, repo_owner="octo", repo_name=slug)


async def count(db) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(Product))


async def test_writes_are_inline_and_commit_or_roll_back_whole(db):
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    async with db.begin() as session:
        connection = await session.connection()
        assert isinstance(
            (await connection.get_raw_connection()).driver_connection, InlineConnection
        )
        session.add(product("kept"))
    with pytest.raises(RuntimeError):
        async with db.begin() as session:
            session.add(product("dropped"))
            await session.flush()
            raise RuntimeError("changed my mind")
    assert await count(db) == 1


async def test_a_constraint_broken_in_a_savepoint_is_an_integrity_error_and_undone_alone(db):
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    async with db.begin() as session:
        session.add(product("first"))
        await session.flush()
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                session.add(product("first"))
                await session.flush()
        session.add(product("second"))
    assert await count(db) == 2


async def test_a_write_lock_held_by_another_process_is_waited_for_off_the_loop(db):
    if not db.is_sqlite:
        pytest.skip("SQLite only")

    async def write(slug: str) -> None:
        async with db.begin() as session:
            session.add(product(slug))

    await write("before")  # the server has been running: its connection is open
    other = sqlite3.connect(make_url(db.url).database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    task = asyncio.create_task(write("while-busy"))
    await asyncio.sleep(0.3)  # the loop still runs
    assert not task.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(task, 10)
    assert await count(db) == 2


def size(path: str) -> int:
    return os.path.getsize(path)


async def test_writes_on_the_loop_leave_checkpoints_to_a_thread(db):
    """A checkpoint writes the database file and fsyncs it: never on the loop. The WAL
    keeps what the writer commits until ``Database.checkpoint`` copies it over."""
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    async with db.begin() as session:
        for n in range(300):  # far more pages than SQLite's automatic checkpoint waits for
            session.add(Product(slug=f"p{n}", name="x" * 20_000, repo_owner="o",
                                repo_name=f"r{n}"))
    path = make_url(db.url).database
    assert size(path) < 1_000_000  # 6 MB written, all of it still in the WAL
    assert size(f"{path}-wal") > 6_000_000
    await db.checkpoint()
    assert size(path) > 6_000_000
    assert await count(db) == 300
