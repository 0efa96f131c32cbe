"""The SLA figures of GET /api/v1/desk/stats (issue 15 item 8), with the app's clock under the
test's control: exact figures for a handful of tickets worked by hand through the desk API,
and, after random work on 1,000 tickets, the figures against a brute-force recount with the
rules (``bot.rules.sla.evaluate``) from the test's own record of what happened."""

from __future__ import annotations

import datetime as dt
import importlib.util
import inspect
import random
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from bot.rules import sla
from storage import migrate, visibility
from storage.models import Ticket
from storage.reads.sla_stats import sla_stats
from storage.repos.desk import compact_counts
from storage.visibility import Visibility
from tests import test_sla_breach_list as breach_list
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import add_product, bearer, make_key
from tests.test_sla_desk import Clock, new_ticket, patch

UTC = dt.UTC
STATS = "/api/v1/desk/stats"
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday; the default policy runs 24x7
NOTHING = {"met": 0, "breached": 0, "percentMet": None}

# The 1,000 randomly worked tickets of the breach-list test, on its two policies.
worked = breach_list.worked


def at(clock: Clock, **after) -> None:
    clock.at = T0 + dt.timedelta(**after)


@pytest.fixture
async def desk(db, aiohttp_client):
    clock = Clock(T0)
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = clock
    client = await aiohttp_client(app)
    headers = bearer(await make_key(client))
    await add_product(client, "other")
    return client, headers, clock


async def stats(client, headers) -> dict:
    resp = await client.get(STATS, headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def reply(client, headers, ticket: dict) -> None:
    body = {"body": "Looking into it.", "internal": False}
    resp = await client.post(
        f"/api/v1/desk/tickets/{ticket['id']}/comments", json=body, headers=headers
    )
    assert resp.status == 201, await resp.text()


async def test_an_empty_desk_has_no_percentages(desk):
    client, headers, _ = desk
    body = await stats(client, headers)
    assert body["avgResolutionBusinessHours"] == 0
    assert body["sla"] == {
        "response": NOTHING,
        "resolution": NOTHING,
        "byPriority": {
            p: {"response": NOTHING, "resolution": NOTHING}
            for p in ("low", "medium", "high", "urgent")
        },
        "breached": 0,
        "atRisk": 0,
    }


async def test_the_figures_of_a_handful_of_tickets_worked_by_hand(db, desk):
    client, headers, clock = desk
    # Default targets (seed 003): urgent 30 min / 4 h, high 2 h / 8 h, medium 8 h / 48 h,
    # low 24 h / 7 days.
    a = await new_ticket(client, headers, priority="urgent")  # replied and resolved in time
    b = await new_ticket(client, headers, priority="urgent")  # replied late, resolved late
    await new_ticket(client, headers, priority="high")  # c: never answered, overdue at 2 h
    e = await new_ticket(client, headers, priority="low")  # answered, then waiting on them
    f = await new_ticket(client, headers, priority="medium")  # answered, then deleted
    g = await new_ticket(client, headers, priority="medium", productSlug="other")
    at(clock, minutes=5)
    await reply(client, headers, f)
    at(clock, minutes=10)
    await reply(client, headers, a)
    at(clock, minutes=20)
    await reply(client, headers, g)
    at(clock, minutes=30)
    await patch(client, headers, a, status="pending")  # a pause of 30 minutes
    at(clock, minutes=45)
    await reply(client, headers, b)  # due at 30 minutes
    at(clock, hours=1)
    await patch(client, headers, a, status="open")
    await reply(client, headers, e)
    at(clock, hours=2)
    await patch(client, headers, a, status="resolved")  # 120 minutes, 90 of them counted
    await patch(client, headers, e, status="pending")  # the resolution clock stops in time
    at(clock, hours=4, minutes=30)
    await new_ticket(client, headers, priority="high")  # d: response due at 6:30
    at(clock, hours=5, minutes=10)
    await patch(client, headers, b, status="resolved")  # 310 minutes, due at 240
    at(clock, hours=6)

    body = await stats(client, headers)
    assert body["byStatus"] == {"open": 4, "pending": 1, "resolved": 2, "closed": 0}
    assert body["totalTickets"] == 7
    # Wall-clock (seed 001): a 2 h, b 5 h 10 min. Business time: a 90 min (the pause left
    # out), b 310 min: 200 minutes on average.
    assert body["avgResolutionTimeHours"] == 3.6
    assert body["avgResolutionBusinessHours"] == 3.3
    sla_figures = body["sla"]
    # Response: met by a, e, f, g; broken by b (late) and c (running, overdue now).
    assert sla_figures["response"] == {"met": 4, "breached": 2, "percentMet": 66.7}
    assert sla_figures["resolution"] == {"met": 1, "breached": 1, "percentMet": 50.0}
    assert sla_figures["byPriority"] == {
        "urgent": {
            "response": {"met": 1, "breached": 1, "percentMet": 50.0},
            "resolution": {"met": 1, "breached": 1, "percentMet": 50.0},
        },
        "high": {"response": {"met": 0, "breached": 1, "percentMet": 0.0}, "resolution": NOTHING},
        "medium": {
            "response": {"met": 2, "breached": 0, "percentMet": 100.0},
            "resolution": NOTHING,
        },
        "low": {"response": {"met": 1, "breached": 0, "percentMet": 100.0}, "resolution": NOTHING},
    }
    # c's response is overdue now; d's falls due within the hour (at 6:30); e is paused.
    assert (sla_figures["breached"], sla_figures["atRisk"]) == (1, 1)

    # A deleted ticket leaves every count.
    resp = await client.delete(f"/api/v1/desk/tickets/{f['id']}", headers=headers)
    assert resp.status == 200
    after = (await stats(client, headers))["sla"]
    assert after["response"] == {"met": 3, "breached": 2, "percentMet": 60.0}
    assert after["byPriority"]["medium"]["response"] == {
        "met": 1,
        "breached": 0,
        "percentMet": 100.0,
    }

    # A key scoped to one product sees that product's figures alone.
    scoped = bearer(await make_key(client, name="other-desk", products=["other"]))
    theirs = await stats(client, scoped)
    assert theirs["totalTickets"] == 1
    assert theirs["sla"]["response"] == {"met": 1, "breached": 0, "percentMet": 100.0}
    assert theirs["sla"]["resolution"] == NOTHING
    assert (theirs["sla"]["breached"], theirs["sla"]["atRisk"]) == (0, 0)
    assert theirs["avgResolutionBusinessHours"] == 0

    # Time passing alone moves the running clocks: at 7:01 d's response (due at 6:30) is
    # overdue too; c's resolution falls due within the hour (at 8:00), but c is overdue.
    at(clock, hours=7, minutes=1)
    later = (await stats(client, headers))["sla"]
    assert later["byPriority"]["high"]["response"] == {"met": 0, "breached": 2, "percentMet": 0.0}
    assert (later["breached"], later["atRisk"]) == (2, 0)

    # Folding the deltas changes no figure.
    async with db.begin() as session:
        assert await compact_counts(session, min_rows=1) > 0
    assert (await stats(client, headers))["sla"] == later


async def test_a_paused_clock_that_was_already_overdue_stays_breached(desk):
    client, headers, clock = desk
    ticket = await new_ticket(client, headers, priority="urgent")
    at(clock, hours=5)  # both clocks overdue (30 min, 4 h); pending stops them, late
    await patch(client, headers, ticket, status="pending")
    body = (await stats(client, headers))["sla"]
    # The status change by staff answered the ticket, late; the resolution broke its promise
    # before the pause: both decided, neither running.
    assert body["response"] == {"met": 0, "breached": 1, "percentMet": 0.0}
    assert body["resolution"] == {"met": 0, "breached": 1, "percentMet": 0.0}
    assert (body["breached"], body["atRisk"]) == (0, 0)


def recount(records: dict[int, breach_list.Record], now: dt.datetime, until: dt.datetime):
    """The figures from the rules, ticket by ticket."""
    clocks: dict[tuple[str, str], list[int]] = {}
    overdue = at_risk = resolved = 0
    minutes = 0.0
    for record in records.values():
        policy = breach_list.POLICIES[record.product]
        response, resolution = sla.evaluate(policy, record.facts(), now)
        running = [
            c
            for c in (response, resolution)
            if c.ended_at is None
            and c.state in (sla.State.RUNNING, sla.State.BREACHED)
            and record.paused_since is None
        ]
        for status in (response, resolution):
            pair = clocks.setdefault((record.priority, status.clock.value), [0, 0])
            if status.state is sla.State.MET:
                pair[0] += 1
            elif status.state is sla.State.BREACHED:
                pair[1] += 1
        if any(c.due_at < now for c in running):
            overdue += 1
        elif any(now < c.due_at <= until for c in running):
            at_risk += 1
        if resolution.ended_at is not None:
            resolved += 1
            minutes += resolution.used_minutes
    return clocks, overdue, at_risk, resolved, minutes


@pytest.mark.slow
async def test_the_figures_match_a_recount_after_random_work(db, worked):
    client, headers, records = worked
    now, until = breach_list.NOW, breach_list.NOW + dt.timedelta(hours=1)
    clocks, overdue, at_risk, resolved, minutes = recount(records, now, until)

    async def check() -> None:
        got = await sla_stats(db.reader, Visibility(None), now, until)
        assert {k: [f.met, f.breached] for k, f in got.clocks.items()} == {
            k: v for k, v in clocks.items() if v != [0, 0]
        }
        assert (got.overdue_tickets, got.at_risk_tickets, got.resolved) == (
            overdue,
            at_risk,
            resolved,
        )
        assert got.resolution_minutes == pytest.approx(minutes)

    await check()
    assert overdue > 50 and at_risk > 0 and resolved > 50  # the data exercises every figure
    body = await stats(client, headers)
    met = sum(v[0] for (_, clock), v in clocks.items() if clock == "response")
    broken = sum(v[1] for (_, clock), v in clocks.items() if clock == "response")
    assert body["sla"]["response"] == {
        "met": met,
        "breached": broken,
        "percentMet": round(met / (met + broken) * 100, 1),
    }

    # Delete 50 of the tickets (within the key's rate limit): they leave the figures; then
    # fold the deltas.
    gone = random.Random(8).sample(sorted(records), 50)
    async with db.begin() as session:
        desk_ids = {i: d for i, d in await session.execute(select(Ticket.id, Ticket.desk_id))}
    for ticket_id in gone:
        resp = await client.delete(f"/api/v1/desk/tickets/{desk_ids[ticket_id]}", headers=headers)
        assert resp.status == 200, await resp.text()
        del records[ticket_id]
    clocks, overdue, at_risk, resolved, minutes = recount(records, now, until)
    await check()
    async with db.begin() as session:
        assert await compact_counts(session, min_rows=1) > 0
    await check()


def _downgrade(connection: Connection, revision: str) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


@pytest.mark.slow
async def test_migration_0011_gives_existing_tickets_the_outcomes_sla_clock_stores(db, worked):
    _, _, records = worked
    columns = (
        Ticket.id,
        Ticket.sla_response_outcome,
        Ticket.sla_resolution_outcome,
        Ticket.sla_running_due_at,
    )

    async def stored() -> dict[int, tuple]:
        async with db.session() as session:
            rows = await session.execute(select(*columns).order_by(Ticket.id))
            return {row[0]: tuple(row[1:]) for row in rows}

    before = await stored()
    assert {outcome for outcome, *_ in before.values()} == {None, "met", "breached"}
    async with db.engine.begin() as conn:
        await conn.run_sync(_downgrade, "0010")
    await migrate.upgrade(db.engine)
    assert await stored() == before

    # Counted once: the figures but the business minutes (not known for old tickets).
    now, until = breach_list.NOW, breach_list.NOW + dt.timedelta(hours=1)
    clocks, overdue, at_risk, _, _ = recount(records, now, until)
    got = await sla_stats(db.reader, Visibility(None), now, until)
    assert {k: [f.met, f.breached] for k, f in got.clocks.items()} == {
        k: v for k, v in clocks.items() if v != [0, 0]
    }
    assert (got.overdue_tickets, got.at_risk_tickets, got.resolved) == (overdue, at_risk, 0)


def test_the_sla_count_triggers_count_by_the_scope_rule():
    """Migration 0011 is history and imports nothing live (like 0002,
    tests/test_storage_visibility.py): read what it says."""
    path = Path(migrate.MIGRATIONS) / "versions" / "0011_sla_counts.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    assert set(visibility.COLUMNS) <= set(migration.WATCHED)
    for row in ("NEW", "OLD"):
        live, owner = visibility.LIVE.format(row=row), visibility.OWNER.format(row=row)
        assert owner in migration._values(row, "+")
        assert f"AND {live} THEN" in migration.PG_FUNCTION
    sqlite_triggers = " ".join(" ".join(t.split()) for t in migration.SQLITE_TRIGGERS)
    new, old = visibility.LIVE.format(row="NEW"), visibility.LIVE.format(row="OLD")
    assert f"AFTER INSERT ON tickets WHEN {new} BEGIN" in sqlite_triggers
    assert f"AFTER DELETE ON tickets WHEN {old} BEGIN" in sqlite_triggers
    assert f"WHEN {old} AND (" in sqlite_triggers and f"WHEN {new} AND (" in sqlite_triggers
    backfill = inspect.getsource(migration.upgrade)
    assert 'owner = "CASE WHEN product_id IS NULL THEN created_by END"' in backfill
    assert (
        visibility.OWNER.replace("{row}.", "") == "CASE WHEN product_id IS NULL THEN created_by END"
    )
    assert f"WHERE {visibility.LIVE.replace('{row}.', '')}" in backfill
