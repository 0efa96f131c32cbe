"""One scope rule (storage.visibility), three renderings: the ORM clause, the SQL over the
tickets and the SQL over the trigger-kept counts select exactly the same tickets, on random
scopes and random tickets; and the triggers of migration 0002 count by the same rule."""

from __future__ import annotations

import collections
import datetime as dt
import importlib.util
import inspect
import random
from pathlib import Path

from sqlalchemy import func, select, update

from storage import visibility
from storage.models import Product, Ticket, TicketCount
from storage.visibility import Params, Visibility

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
CREATORS = ("key_a", "key_b", "key_c", None)
STATUSES = ("open", "pending", "resolved", "closed")
MIGRATION = (
    Path(__file__).parent.parent / "storage" / "migrations" / "versions" / "0002_ticket_counts.py"
)


def random_ticket(rng: random.Random, n: int, products: list[int | None]) -> Ticket:
    return Ticket(
        id=n, desk_id=f"tkt_{n}", product_id=rng.choice(products), subject=f"S{n}",
        body="b", submitter_email=f"c{n}@example.com", tracking_token_hash="h" * 64,
        status=rng.choice(STATUSES), created_by=rng.choice(CREATORS), created_at=NOW,
        updated_at=NOW, deleted_at=NOW if rng.random() < 0.2 else None,
    )


def random_visibility(rng: random.Random, product_ids: list[int]) -> Visibility:
    if rng.random() < 0.15:
        return Visibility(None, creator=rng.choice(CREATORS))
    scope = rng.sample([*product_ids, 999_999], rng.randint(0, len(product_ids)))
    return Visibility(tuple(scope), creator=rng.choice([*CREATORS, "", "key_nobody"]))


async def selected_by_orm(db, visible: Visibility) -> dict[int, str]:
    async with db.session() as session:
        rows = await session.execute(select(Ticket.id, Ticket.status).where(visible.clause()))
        return dict(rows.all())


async def selected_by_sql(db, visible: Visibility) -> dict[int, str]:
    params = Params()
    sql = f"SELECT t.id, t.status FROM tickets t WHERE {visible.sql(params)}"
    return {number: status for number, status in await db.reader.fetch(sql, *params.values)}


async def counted_by_sql(db, visible: Visibility) -> dict[str, int]:
    params = Params()
    where = visible.counts_sql(params)
    sql = "SELECT status, sum(tickets) FROM ticket_counts"
    sql += f" WHERE {where} GROUP BY status" if where else " GROUP BY status"
    rows = await db.reader.fetch(sql, *params.values)
    return {status: int(count) for status, count in rows if count}


async def test_every_rendering_selects_the_same_tickets(db):
    rng = random.Random(20261202)
    async with db.begin() as session:
        made = [
            Product(slug=f"p{i}", name=f"P{i}", repo_owner="o", repo_name=f"r{i}")
            for i in range(3)
        ]
        session.add_all(made)
        await session.flush()
        product_ids = [p.id for p in made]
        choices: list[int | None] = [*product_ids, None]
        session.add_all(random_ticket(rng, n, choices) for n in range(1, 121))
    # Moves that the count triggers must follow: scope, creator and deletion change.
    async with db.begin() as session:
        for n in rng.sample(range(1, 121), 40):
            change = rng.choice(
                [
                    {"product_id": rng.choice(choices)},
                    {"created_by": rng.choice(CREATORS)},
                    {"deleted_at": rng.choice([None, NOW])},
                    {"status": rng.choice(STATUSES)},
                ]
            )
            await session.execute(update(Ticket).where(Ticket.id == n).values(**change))
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(TicketCount)) > 0

    seen_some = seen_none = 0
    for _ in range(80):
        visible = random_visibility(rng, product_ids)
        by_orm = await selected_by_orm(db, visible)
        assert await selected_by_sql(db, visible) == by_orm, visible
        by_status = dict(collections.Counter(by_orm.values()))
        assert await counted_by_sql(db, visible) == by_status, visible
        seen_some += bool(by_orm)
        seen_none += not by_orm
    assert seen_some > 40 and seen_none > 0  # the scopes were neither all empty nor all full


def test_the_count_triggers_count_by_the_rule():
    """Migration 0002 is history and imports nothing live: read what it says."""
    spec = importlib.util.spec_from_file_location("migration_0002", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    assert set(visibility.COLUMNS) <= set(migration.WATCHED)
    for row in ("NEW", "OLD"):
        live, owner = visibility.LIVE.format(row=row), visibility.OWNER.format(row=row)
        assert owner in migration._sqlite_values(row, "+")
        assert owner in migration._pg_values(row, "+")
        assert f"AND {live} THEN" in migration.PG_FUNCTION
    sqlite_triggers = " ".join(" ".join(t.split()) for t in migration.SQLITE_TRIGGERS)
    new, old = visibility.LIVE.format(row="NEW"), visibility.LIVE.format(row="OLD")
    assert f"AFTER INSERT ON tickets WHEN {new} BEGIN" in sqlite_triggers
    assert f"AFTER DELETE ON tickets WHEN {old} BEGIN" in sqlite_triggers
    assert f"WHEN {old} AND (" in sqlite_triggers and f"WHEN {new} AND (" in sqlite_triggers
    # The counts of the tickets there were when the migration ran: the same rule, no row.
    backfill = inspect.getsource(migration.upgrade)
    assert visibility.OWNER.replace("{row}.", "") in backfill
    assert f"WHERE {visibility.LIVE.replace('{row}.', '')}" in backfill
