"""The two units of work say by their names when a write commits: ``OwnTransactions`` at
the end of each ``begin()`` block, ``BatchTransaction`` with the batch (or when it steps
``outside()``, or lets a waiting writer in), a failing ``savepoint()`` undoing its own work
alone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update

import storage.unit
from storage.inbox_writer import InboxWriter
from storage.models import Product, Ticket
from storage.repos.deliveries import IncomingDelivery
from storage.repos.tickets import TicketRepo
from storage.types import utcnow
from storage.unit import BatchTransaction, OwnTransactions, Unit


def product(slug: str) -> Product:
    return Product(slug=slug, name=slug, repo_owner="octo", repo_name=slug)


async def slugs(db) -> list[str]:
    async with db.session() as session:
        return list((await session.scalars(select(Product.slug).order_by(Product.slug))).all())


async def test_own_transactions_commit_each_begin(db):
    unit: Unit = OwnTransactions(db)
    async with unit.savepoint():
        async with unit.begin() as session:
            session.add(product("first"))
        assert await slugs(db) == ["first"]  # committed as its block ended
    assert await unit.outside(lambda: slugs(db)) == ["first"]


async def test_a_batch_commits_once_and_undoes_a_failing_piece_alone(db):
    async with BatchTransaction.open(db) as unit:
        async with unit.savepoint():
            async with unit.begin() as session:
                session.add(product("kept"))
        assert await slugs(db) == []  # nothing commits inside the batch
        with pytest.raises(RuntimeError):
            async with unit.savepoint():
                async with unit.begin() as session:
                    session.add(product("undone"))
                raise RuntimeError("this handler failed")
        async with unit.savepoint():
            async with unit.begin() as session:
                session.add(product("later"))
            # Stepping outside commits what is done, then takes the transaction again.
            assert await unit.outside(lambda: slugs(db)) == ["kept", "later"]
            async with unit.begin() as session:
                session.add(product("after"))
    assert await slugs(db) == ["after", "kept", "later"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == 3


async def test_a_batch_lets_a_waiting_webhook_ack_write_between_two_pieces(db, monkeypatch):
    """SQLite: a webhook acknowledgement waits for the write lock a batch holds; once the
    batch has held it long enough, the next gap between pieces commits what is done and
    the acknowledgement goes first (its answer waits for its commit)."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL has no process write lock: the ack never waits for a batch")
    writer = InboxWriter(db)
    ack = IncomingDelivery("ack-1", "issues", "opened", 1, '{"action": "opened"}')
    async with BatchTransaction.open(db) as unit:
        async with unit.savepoint():
            async with unit.begin() as session:
                session.add(product("first"))
        stored = asyncio.create_task(writer.store(ack))
        await asyncio.sleep(0.05)
        assert not stored.done()  # queued behind the batch
        monkeypatch.setattr(storage.unit, "SHARE_WRITE_LOCK_AFTER_S", 3600.0)
        await unit.let_others_in()  # held for less than that: the batch goes on
        assert not stored.done() and await slugs(db) == []
        monkeypatch.setattr(storage.unit, "SHARE_WRITE_LOCK_AFTER_S", 0.0)
        await unit.let_others_in()
        assert await asyncio.wait_for(stored, 5) is True  # stored while the batch holds on
        assert await slugs(db) == ["first"]  # committed before the ack was let in
        async with unit.savepoint():
            async with unit.begin() as session:
                session.add(product("second"))
    await writer.close()
    assert await slugs(db) == ["first", "second"]


async def test_a_batch_nobody_waits_for_does_not_commit_between_pieces(db, monkeypatch):
    monkeypatch.setattr(storage.unit, "SHARE_WRITE_LOCK_AFTER_S", 0.0)
    async with BatchTransaction.open(db) as unit:
        async with unit.savepoint():
            async with unit.begin() as session:
                session.add(product("first"))
        await unit.let_others_in()
        assert await slugs(db) == []
    assert await slugs(db) == ["first"]


async def test_a_ticket_read_after_the_batch_committed_mid_way_is_what_is_stored(db):
    """A batch keeps its session across the commits it makes mid-way (a call to GitHub
    outside the transaction). A ticket changed meanwhile by someone else is read as stored,
    not as the session last saw it: the read on its issue refreshes what it finds."""
    now = utcnow()
    async with db.begin() as session:
        made = product("app")
        session.add(made)
        await session.flush()
        ticket = Ticket(
            desk_id="tkt_fresh",
            product_id=made.id,
            subject="Export fails",
            body="CSV export returns 500.",
            submitter_email="bot@agent.test",
            tracking_token_hash="h" * 64,
            issue_number=7,
            stage="ISSUE_CREATED",
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        await session.flush()
        product_id, ticket_id = made.id, ticket.id

    async def someone_else_moves_it() -> None:
        async with db.begin() as other:
            await other.execute(
                update(Ticket).where(Ticket.id == ticket_id).values(stage="FIX_IN_PROGRESS")
            )

    async with BatchTransaction.open(db) as unit:
        async with unit.savepoint():
            [seen] = await TicketRepo(unit.shared_session).linked_to_issue(product_id, 7)
            assert seen.stage == "ISSUE_CREATED"
            await unit.outside(someone_else_moves_it)
            [again] = await TicketRepo(unit.shared_session).linked_to_issue(
                product_id, 7, lock=True
            )
            assert again.stage == "FIX_IN_PROGRESS"
