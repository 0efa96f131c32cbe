"""The desk's plain-SQL reads (storage.reads.desk_reads) return exactly what the ORM sees: every
filter, every scope, keyset walks across equal timestamps, tags in their order."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.views import desk
from storage import reader
from storage.models import ApiKey, Comment, Product, Ticket, TicketTag
from storage.reads import desk_reads
from storage.reads.desk_reads import TicketFilters
from storage.repos.apikeys import active_by_hash
from storage.repos.desk import DeskRepo
from storage.visibility import Visibility

NOW = dt.datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=dt.UTC)
STATUSES = ("open", "pending", "resolved", "closed")
PRIORITIES = ("low", "medium", "high", "urgent")
TAG_SETS = ((), ("billing",), ("safari", "billing"), ("billing", "safari", "login"), ("login",))
STAGES = ("RECEIVED", "PR_OPEN", "MERGED")
CREATOR = "key_mine"


@pytest.fixture
async def seeded(db) -> tuple[int, int]:
    """60 tickets over two products and none; a third share one created_at (the keyset is the
    id, so equal timestamps must not matter); every thirteenth is soft-deleted."""
    async with db.begin() as session:
        first = Product(slug="first", name="First", repo_owner="o", repo_name="first")
        second = Product(slug="second", name="Second", repo_owner="o", repo_name="second")
        session.add_all([first, second])
        await session.flush()
        products = (first.id, second.id, None)
        for n in range(1, 61):
            session.add(Ticket(
                id=n, desk_id=f"tkt_{n}", product_id=products[n % 3],
                subject=f"Subject {n}", body=f"Body {n}", submitter_email=f"c{n}@example.com",
                tracking_token_hash="h" * 64, status=STATUSES[n % 4],
                priority=PRIORITIES[(n // 4) % 4], assignee=None if n % 5 == 0 else f"a{n % 2}",
                created_by=CREATOR if n % 2 else "key_other", stage=STAGES[(n // 3) % 3],
                created_at=NOW if n % 3 == 0 else NOW + dt.timedelta(seconds=n),
                updated_at=NOW, is_test=n % 7 == 0,
                deleted_at=NOW if n % 13 == 0 else None,
                tags=[TicketTag(tag=t, position=i) for i, t in enumerate(TAG_SETS[n % 5])],
            ))
    return first.id, second.id


async def orm_listing(db, visibility: Visibility, filters: TicketFilters) -> list[dict]:
    """Every visible ticket that matches, newest first, through the ORM and Python filters."""
    async with db.session() as session:
        tickets = (await session.scalars(
            select(Ticket).where(visibility.clause()).options(selectinload(Ticket.tags))
            .order_by(Ticket.id.desc())
        )).all()
    return [
        desk.ticket_summary(t) for t in tickets
        if all(getattr(t, f) == v for f, v in
               [("status", filters.status), ("priority", filters.priority),
                ("assignee", filters.assignee), ("product_id", filters.product_id),
                ("stage", filters.stage)] if v is not None)
        and (filters.tag is None or filters.tag in [g.tag for g in t.tags])
        and (filters.statuses is None or t.status in filters.statuses)
        and (not filters.unassigned or t.assignee is None)
    ]


async def walk(db, visibility: Visibility, filters: TicketFilters, limit: int) -> list[dict]:
    seen, before_id = [], None
    while True:
        rows = await desk_reads.page(db.reader, visibility, filters, before_id=before_id,
                                     limit=limit + 1)
        seen += [desk.ticket_summary(t) for t in rows[:limit]]
        if len(rows) <= limit:
            return seen
        before_id = rows[limit - 1].id


async def walk_back(db, visibility: Visibility, filters: TicketFilters, limit: int) -> list[dict]:
    """The same listing from the oldest ticket up, a page at a time through ``after_id``
    (each page still newest first)."""
    seen, after_id = [], 0
    while True:
        rows = await desk_reads.page(db.reader, visibility, filters, before_id=None,
                                     after_id=after_id, limit=limit + 1)
        page = rows[1:] if len(rows) > limit else rows
        seen = [desk.ticket_summary(t) for t in page] + seen
        if len(rows) <= limit:
            return seen
        after_id = page[0].id


FILTERS = [
    TicketFilters(),
    TicketFilters(status="open"),
    TicketFilters(status="open", priority="high"),
    TicketFilters(assignee="a1"),
    TicketFilters(tag="billing"),
    TicketFilters(tag="safari", status="resolved"),
    TicketFilters(tag="billing", priority="urgent", assignee="a0"),
    TicketFilters(tag="nothing"),
    TicketFilters(status="closed", priority="low", assignee="nobody"),
    TicketFilters(statuses=("open", "pending")),
    TicketFilters(statuses=()),
    TicketFilters(unassigned=True, statuses=("open", "pending")),
    TicketFilters(stage="MERGED"),
    TicketFilters(stage="PR_OPEN", tag="billing", unassigned=True),
]


async def test_every_filter_scope_and_page_size_walks_exactly_the_orm_listing(db, seeded):
    first, second = seeded
    scopes = [Visibility(None), Visibility((first,)), Visibility((first, second)),
              Visibility((second,), creator=CREATOR), Visibility(())]
    by_product = [TicketFilters(product_id=first), TicketFilters(product_id=second, stage="MERGED")]
    for visibility, filters in itertools.product(scopes, FILTERS + by_product):
        expected = await orm_listing(db, visibility, filters)
        for limit in (1, 4, 100):
            assert await walk(db, visibility, filters, limit) == expected, (visibility, filters)
            back = await walk_back(db, visibility, filters, limit)
            assert back == expected, ("after_id", visibility, filters)
    everything = await orm_listing(db, Visibility(None), TicketFilters())
    assert len(everything) == 56 and everything[2]["tags"] == ["billing", "safari", "login"]


async def test_tags_come_in_their_position_order_not_alphabetically(db, seeded):
    page = await desk_reads.page(db.reader, Visibility(None), TicketFilters(), before_id=3,
                                 limit=1)
    assert [g.tag for g in page[0].tags] == ["safari", "billing"]
    assert page[0].created_at == NOW + dt.timedelta(seconds=2)
    assert page[0].created_at.tzinfo is not None


async def test_one_ticket_and_its_comments_read_as_the_orm_reads_them(db, seeded):
    first, _ = seeded
    async with db.begin() as session:
        session.add_all([
            Comment(desk_id="cmt_1", ticket_id=14, body="Public", internal=False, author="Ana",
                    created_at=NOW),
            Comment(desk_id="cmt_2", ticket_id=14, body="Note", internal=True, author="Bo",
                    created_at=NOW + dt.timedelta(minutes=1)),
        ])
        ticket = await session.get(Ticket, 14)
        ticket.resolved_at = NOW + dt.timedelta(hours=2)
        ticket.first_response_at = NOW
    for number, visibility in [(14, Visibility(None)), (28, Visibility(None)),
                               (14, Visibility((first,))), (7, Visibility(None))]:
        async with db.session() as session:
            repo = DeskRepo(session)
            orm = await repo.visible_by_number(number, visibility)
            expected = orm and desk.ticket_view(orm, list(await repo.comments(number)))
        read = await desk_reads.visible_by_number(db.reader, number, visibility)
        got = read and desk.ticket_view(read, await desk_reads.comments(db.reader, number))
        assert got == expected, number
        by_desk_id = await desk_reads.visible_by_desk_id(db.reader, f"tkt_{number}", visibility)
        assert by_desk_id == read
    assert (await desk_reads.visible_by_number(db.reader, 13, Visibility(None))) is None  # deleted
    assert (await desk_reads.visible_by_number(db.reader, 16, Visibility((first,)))) is None


async def test_the_key_lookup_reads_the_scope_and_misses_revoked_keys(db, seeded):
    first, second = seeded
    async with db.begin() as session:
        session.add_all([
            ApiKey(public_id="key_a", name="A", key_hash="a" * 64, display_prefix="td_live_aaaa",
                   product_ids=[first, second], last_used_at=NOW),
            ApiKey(public_id="key_b", name="B", key_hash="b" * 64, display_prefix="td_test_bbbb",
                   is_test=True, revoked_at=NOW),
        ])
    found = await active_by_hash(db.reader, "a" * 64)
    assert found is not None
    assert (found.public_id, found.name, found.is_test) == ("key_a", "A", False)
    assert found.product_ids == [first, second] and found.last_used_at == NOW
    assert await active_by_hash(db.reader, "b" * 64) is None
    assert await active_by_hash(db.reader, "c" * 64) is None


COUNT_TO = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) " \
           "SELECT count(*) FROM n"


async def test_a_bounded_read_that_outruns_the_loop_budget_finishes_on_a_thread(db, monkeypatch):
    if db.reader.dialect != "sqlite":
        pytest.skip("only SQLite reads run on the loop")
    on_threads = []
    fetch_on = reader.SQLiteReader._fetch_on

    def record(connection, sql, args):
        on_threads.append(sql)
        return fetch_on(connection, sql, args)

    monkeypatch.setattr(reader.SQLiteReader, "_fetch_on", staticmethod(record))
    assert await db.reader.fetch_bounded(COUNT_TO, 10) == [(10,)]
    assert on_threads == []
    monkeypatch.setattr(reader, "SQLITE_LOOP_BUDGET_S", -1.0)
    assert await db.reader.fetch_bounded(COUNT_TO, 200_000) == [(200_000,)]
    assert len(on_threads) == 1
    # The handler is gone afterwards: a plain fetch is never interrupted.
    assert await db.reader.fetch(COUNT_TO, 200_000) == [(200_000,)]
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.reader.fetch_bounded("SELECT * FROM nowhere")
