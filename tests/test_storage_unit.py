"""The two units of work say by their names when a write commits: ``OwnTransactions`` at
the end of each ``begin()`` block, ``BatchTransaction`` with the batch (or when it steps
``outside()``), a failing ``savepoint()`` undoing its own work alone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import Product
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
