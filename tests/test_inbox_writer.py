"""Group commit of verified deliveries: each answer waits for its own commit, bursts share
transactions, duplicates are told apart, and a failed group loses nobody silently."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from storage.inbox_writer import InboxWriter
from storage.models import Delivery
from storage.repos import queue
from storage.repos.deliveries import IncomingDelivery


def delivery(delivery_id: str) -> IncomingDelivery:
    return IncomingDelivery(delivery_id=delivery_id, event="issues", action="assigned",
                            installation_id=1, payload='{"action": "assigned"}')


async def stored_ids(db) -> list[str]:
    async with db.session() as session:
        return list(await session.scalars(select(Delivery.delivery_id).order_by(Delivery.id)))


@pytest.fixture
async def writer(db):
    """The writer as the server keeps it: closed at the end (on PostgreSQL it has a pool)."""
    made = InboxWriter(db)
    yield made
    await made.close()


def count_groups(writer: InboxWriter) -> list[int]:
    """Record the size of every group the writer stores in one transaction."""
    sizes: list[int] = []
    record = writer._record

    async def counting(deliveries):
        sizes.append(len(deliveries))
        return await record(deliveries)

    writer._record = counting
    return sizes


async def test_a_burst_is_stored_in_a_few_transactions_and_each_store_returns_after_commit(
    db, writer
):
    groups = count_groups(writer)
    results = await asyncio.gather(*(writer.store(delivery(f"d-{i}")) for i in range(100)))
    assert results == [True] * 100
    assert await stored_ids(db) == [f"d-{i}" for i in range(100)]  # in order of arrival
    assert sum(groups) == 100 and len(groups) <= 3


async def test_a_redelivered_id_is_not_new_even_within_one_group(db, writer):
    assert await writer.store(delivery("same")) is True
    results = await asyncio.gather(writer.store(delivery("same")), writer.store(delivery("twin")),
                                   writer.store(delivery("twin")))
    assert results == [False, True, False]
    assert await stored_ids(db) == ["same", "twin"]


async def test_stored_deliveries_are_due_at_once_for_the_inbox_worker(db, writer):
    await asyncio.gather(*(writer.store(delivery(f"d-{i}")) for i in range(3)))
    async with db.begin() as session:
        claimed = await queue.claim(session, Delivery, limit=10, lease=dt.timedelta(minutes=1))
    assert [row.delivery_id for row in claimed] == ["d-0", "d-1", "d-2"]
    row = claimed[0]
    assert (row.event, row.action, row.installation_id) == ("issues", "assigned", 1)
    assert row.attempts == 1
    assert abs(row.received_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


async def test_a_failed_group_raises_to_each_of_its_requests_and_the_next_group_is_stored(
    db, writer
):
    record = writer._record
    calls = 0

    async def failing_once(deliveries):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("disk I/O error")
        return await record(deliveries)

    writer._record = failing_once
    first = await asyncio.gather(writer.store(delivery("a")), writer.store(delivery("b")),
                                 return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in first)
    assert await writer.store(delivery("a")) is True  # GitHub's redelivery is stored
    assert await stored_ids(db) == ["a"]


async def test_a_client_hanging_up_does_not_stop_its_delivery_being_stored(db, writer):
    task = asyncio.create_task(writer.store(delivery("gone")))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await writer.close()
    assert await stored_ids(db) == ["gone"]


async def test_sqlite_busy_in_another_process_is_waited_for_off_the_loop(db, writer):
    """Another process (say `tinydesk products add`) holds the write lock: the direct write
    gives up at once and the group is stored once the lock is free, nothing is lost."""
    if not db.is_sqlite:
        pytest.skip("SQLite's write lock")
    assert await writer.store(delivery("before")) is True  # the server has been running
    other = sqlite3.connect(make_url(db.url).database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    store = asyncio.create_task(writer.store(delivery("while-busy")))
    await asyncio.sleep(0.3)
    assert not store.done()  # waiting in a driver thread, the loop still runs
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(store, 10) is True
    assert await stored_ids(db) == ["before", "while-busy"]
