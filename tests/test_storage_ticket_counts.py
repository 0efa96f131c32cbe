"""The pre-computed ticket counts (migration 0002) always equal a count of the tickets
themselves, whatever changes the tickets go through, before and after compaction."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, update

from storage.models import Product, Ticket, TicketCount
from storage.reads import desk_reads
from storage.repos.desk import compact_counts
from storage.visibility import Visibility
from tests.deskkit import bearer, create_ticket, make_key

TICKETS = "/api/v1/desk/tickets"


async def counted_by_scan(db, visibility: Visibility):
    async with db.session() as session:
        rows = await session.execute(
            select(Ticket.status, func.count()).where(visibility.clause()).group_by(Ticket.status)
        )
        by_status = dict(rows.all())
        resolved = (await session.execute(
            select(Ticket.created_at, Ticket.resolved_at)
            .where(visibility.clause(), Ticket.resolved_at.is_not(None))
        )).all()
    seconds = [(r - c).total_seconds() for c, r in resolved]
    return by_status, (sum(seconds) / len(seconds) if seconds else None)


async def counted(db, visibility: Visibility):
    stats = await desk_reads.stats(db.reader, visibility)
    return stats.by_status, stats.avg_resolution_seconds


@pytest.fixture
async def key(client, product):
    return await make_key(client, name="staff")


async def test_counts_follow_every_change_and_survive_compaction(client, db, key, product):
    mine = await make_key(client, name="mine", products=["my-saas-app"])
    tickets = [await create_ticket(client, key) for _ in range(6)]
    tickets.append(await create_ticket(client, mine))
    statuses = ["pending", "resolved", "resolved", "closed", "open"]
    for ticket, status in zip(tickets, statuses, strict=False):
        resp = await client.patch(
            f"{TICKETS}/{ticket['id']}", json={"status": status}, headers=bearer(key)
        )
        assert resp.status == 200
    start = dt.datetime(2026, 2, 17, 10, 0, tzinfo=dt.UTC)
    async with db.begin() as session:
        await session.execute(update(Ticket).where(Ticket.desk_id == tickets[1]["id"])
                              .values(created_at=start, resolved_at=start + dt.timedelta(hours=3)))
        await session.execute(update(Ticket).where(Ticket.desk_id == tickets[2]["id"])
                              .values(product_id=None))
        await session.execute(delete(Ticket).where(Ticket.desk_id == tickets[5]["id"]))
    assert (await client.delete(f"{TICKETS}/{tickets[0]['id']}", headers=bearer(key))).status == 200

    async with db.session() as session:
        product_id = await session.scalar(select(Product.id).where(Product.slug == product["slug"]))
    scopes = [
        Visibility(None),
        Visibility((product_id,)),
        Visibility((product_id,), creator=key["id"]),
    ]
    for visibility in scopes:
        by_status, avg = await counted_by_scan(db, visibility)
        got_status, got_avg = await counted(db, visibility)
        assert got_status == by_status
        assert got_avg == pytest.approx(avg) if avg is not None else got_avg is None

    async with db.begin() as session:
        assert await compact_counts(session, min_rows=1) > 0
    async with db.session() as session:
        rows = await session.scalar(select(func.count()).select_from(TicketCount))
    assert rows <= 4  # one per (product, owner, status) left
    for visibility in scopes:
        by_status, avg = await counted_by_scan(db, visibility)
        got_status, got_avg = await counted(db, visibility)
        assert got_status == by_status
        assert got_avg == pytest.approx(avg) if avg is not None else got_avg is None
