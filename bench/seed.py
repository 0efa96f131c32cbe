"""Databases for the benchmark: made, migrated, seeded in bulk, measured and dropped.

Seeding writes straight SQL (``INSERT ... SELECT`` over a generated series) into the schema
that the Alembic migrations made, so a million tickets with their history, comments and tags
take seconds, not hours. Every value respects storage/models.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.rules import ids
from bot.tickets.apikeys import KeyRequest, create_key
from bot.tickets.products import register_product, validate_product
from storage import migrate
from storage.database import Database
from storage.repos.desk import compact_counts

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PRODUCT_SLUG = "my-saas-app"
OWNER, REPO = "octo-org", "my-saas-app"
TRACKING_TOKEN = "bench-tracking-token"
STAGES = ["RECEIVED", "ISSUE_CREATED", "FIX_IN_PROGRESS", "PR_OPEN", "MERGED", "DEPLOYED"]
CAUSES = [
    "ticket.submitted",
    "issue.created",
    "issues.assigned",
    "pull_request.opened",
    "pull_request.closed",
    "deployment_status.created",
]
DESCRIPTIONS = [
    "Ticket received",
    "GitHub issue created",
    "Issue assigned",
    "Pull request #1 opened",
    "Pull request #1 merged",
    "Deployed to production",
]


@dataclass
class BenchDatabase:
    kind: str  # "sqlite" | "postgres"
    url: str
    path: Path | None = None  # SQLite file
    admin_url: str | None = None  # PostgreSQL: where to drop it from


@contextlib.asynccontextmanager
async def fresh_database(
    kind: str, workdir: Path, postgres_url: str
) -> AsyncIterator[BenchDatabase]:
    """A new, migrated, empty database, removed afterwards."""
    name = f"tinydesk_bench_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        bench_db = BenchDatabase(kind, f"sqlite+aiosqlite:///{path}", path=path)
    else:
        admin = make_url(postgres_url)
        engine = create_async_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()
        url = admin.set(database=name).render_as_string(hide_password=False)
        bench_db = BenchDatabase(kind, url, admin_url=postgres_url)
    try:
        engine = create_async_engine(bench_db.url, poolclass=NullPool)
        await migrate.upgrade(engine)
        await engine.dispose()
        yield bench_db
    finally:
        if kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{bench_db.path}{suffix}")
        else:
            engine = create_async_engine(
                make_url(postgres_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await engine.dispose()


async def add_product_and_key(url: str, *, repo: str = f"{OWNER}/{REPO}") -> tuple[int, str]:
    """Register the product (through the app's own code) and make a desk API key."""
    db = Database(url, pool_size=1)
    try:
        async with db.begin() as session:
            product = await register_product(
                session, validate_product({"slug": PRODUCT_SLUG, "repo": repo})
            )
            created = await create_key(session, KeyRequest("bench", (), False))
        return product.id, created.secret
    finally:
        await db.dispose()


def seed_base(count: int) -> str:
    """Ticket n is created n minutes after this (UTC): the newest an hour ago, so that the
    newest tickets' SLA clocks are still running when the benchmark reads them."""
    base = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=count + 60)
    return base.strftime("%Y-%m-%d %H:%M:00")


def _ts(kind: str, minutes: str, base: str = "2024-01-01 00:00:00") -> str:
    if kind == "sqlite":
        return f"datetime('{base}', '+' || ({minutes}) || ' minutes')"
    return f"(TIMESTAMPTZ '{base}+00' + ({minutes}) * INTERVAL '1 minute')"


# Seed 003's default targets in minutes (the seeded 'Default' policy, 24x7), by priority.
RESPONSE_MINUTES = {"low": 24 * 60, "medium": 8 * 60, "high": 2 * 60, "urgent": 30}
RESOLUTION_MINUTES = {"low": 7 * 24 * 60, "medium": 48 * 60, "high": 8 * 60, "urgent": 4 * 60}


def sla_statement(kind: str, start: int, end: int) -> str:
    """The SLA columns of tickets start..end as bot.tickets.sla_clock would store them on the
    Default policy (24x7) for the seeded history: even tickets got a public reply 5 minutes
    in (response met); pending ones paused a minute in; resolved and closed ones ended at
    resolved_at (the status change by staff ends an unanswered response clock too); open
    ones run. No alert is scheduled (sla_alert_at stays NULL)."""

    def plus(column: str, minutes: str) -> str:
        if kind == "sqlite":
            return f"datetime({column}, '+' || ({minutes}) || ' minutes')"
        return f"({column} + ({minutes}) * INTERVAL '1 minute')"

    def by_priority(table: dict[str, int]) -> str:
        return (
            "CASE priority " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in table.items()) + " END"
        )

    r, t = by_priority(RESPONSE_MINUTES), by_priority(RESOLUTION_MINUTES)
    took = "(60 * (id % 72))"  # resolved_at - created_at, in minutes (seed_statements)
    finished = "status IN ('resolved', 'closed')"
    response = (
        f"CASE WHEN id % 2 = 0 THEN NULL WHEN status = 'open' THEN {plus('created_at', r)} "
        f"WHEN {finished} AND {took} > {r} THEN {plus('created_at', r)} END"
    )
    resolution = (
        f"CASE WHEN status = 'open' THEN {plus('created_at', t)} "
        f"WHEN {finished} AND {took} > {t} THEN {plus('created_at', t)} END"
    )
    earliest = (
        "CASE WHEN sla_response_breach_at IS NULL THEN sla_resolution_breach_at "
        "WHEN sla_resolution_breach_at IS NULL THEN sla_response_breach_at "
        "WHEN sla_response_breach_at < sla_resolution_breach_at THEN sla_response_breach_at "
        "ELSE sla_resolution_breach_at END"
    )
    window = f"id BETWEEN {start} AND {end}"
    return (
        "UPDATE tickets SET sla_policy_id = 1, "
        f"first_response_at = CASE WHEN id % 2 = 0 THEN {plus('created_at', '5')} END, "
        f"sla_first_status_at = CASE WHEN {finished} THEN resolved_at END, "
        f"sla_paused_since = CASE WHEN status = 'pending' THEN {plus('created_at', '1')} END, "
        f"sla_cycle_ended_at = CASE WHEN {finished} THEN resolved_at END, "
        f"first_response_due_at = {plus('created_at', r)}, due_at = {plus('created_at', t)}, "
        f"sla_response_breach_at = {response}, sla_resolution_breach_at = {resolution} "
        f"WHERE {window}; "
        f"UPDATE tickets SET sla_breach_at = {earliest} WHERE {window}"
    )


def _series(kind: str, start: int, end: int) -> tuple[str, str]:
    """(WITH prefix, FROM clause) yielding n = start..end."""
    if kind == "sqlite":
        return (
            f"WITH RECURSIVE seq(n) AS (SELECT {start} UNION ALL "
            f"SELECT n + 1 FROM seq WHERE n < {end}) ",
            "seq",
        )
    return "", f"generate_series({start}, {end}) AS seq(n)"


def _case(expr: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expr} {whens} END"


def seed_statements(
    kind: str, product_id: int, start: int, end: int, base: str = "2024-01-01 00:00:00"
) -> list[str]:
    """Tickets start..end (ids = publicId numbers), their history, comments and tags.

    A ticket n is at stage STAGES[n % 6] with one transition per stage it went through;
    desk status is 50% open, 20% pending, 20% resolved, 10% closed; one in a thousand is
    soft-deleted; every other one has a public comment, every sixth an internal note.
    """
    ts = lambda minutes: _ts(kind, minutes, base)  # noqa: E731
    with_, from_ = _series(kind, start, end)
    token_hash = ids.hash_secret(TRACKING_TOKEN)
    tickets = (
        f"{with_}INSERT INTO tickets (id, desk_id, product_id, subject, body, submitter_email,"
        " submitter_name, screenshots, tracking_token_hash, stage, status, priority, assignee,"
        " type, category, source_type, is_test, issue_number, stage_event_at, staff_closed_at,"
        " created_at, updated_at, first_response_at,"
        " resolved_at, due_at, created_by, updated_by, deleted_at, deleted_by) "
        f"SELECT n, 'tkt_bench' || n, {product_id}, 'Checkout fails on step ' || (n % 97),"
        " 'Steps to reproduce ' || n ||"
        " ': open the app, add to cart, press Pay; nothing happens.',"
        " 'customer' || (n % 5000) || '@example.com', 'Customer ' || (n % 5000), '[]',"
        f" '{token_hash}', {_case('n % 6', STAGES)},"
        " CASE WHEN n % 10 < 5 THEN 'open' WHEN n % 10 < 7 THEN 'pending'"
        " WHEN n % 10 < 9 THEN 'resolved' ELSE 'closed' END,"
        f" {_case('n % 4', ['low', 'medium', 'high', 'urgent'])},"
        " CASE WHEN n % 6 = 0 THEN NULL ELSE 'agent' || (n % 6) || '@example.com' END,"
        " NULL, NULL, 'api', FALSE, CASE WHEN n % 6 = 0 THEN NULL ELSE n END,"
        " NULL, NULL,"
        f" {ts('n')}, {ts('n + 30')}, NULL,"
        f" CASE WHEN n % 10 >= 7 THEN {ts('n + 60 * (n % 72)')} END, NULL, NULL, NULL,"
        f" CASE WHEN n % 1000 = 999 THEN {ts('n + 10')} END, NULL FROM {from_}"
    )
    statements = [tickets]
    window = f"id BETWEEN {start} AND {end}"
    for k, stage in enumerate(STAGES):
        previous = f"'{STAGES[k - 1]}'" if k else "NULL"
        # One statement per step: within a ticket, history ids rise with the stage.
        statements.append(
            "INSERT INTO stage_transitions"
            " (ticket_id, from_stage, to_stage, at, cause, description) "
            f"SELECT id, {previous}, '{stage}', {ts('id + 10 * ' + str(k))}, "
            f"'{CAUSES[k]}', '{DESCRIPTIONS[k]}' "
            f"FROM tickets WHERE {window} AND id % 6 >= {k} ORDER BY id"
        )
    statements += [
        "INSERT INTO comments (desk_id, ticket_id, body, internal, author, created_at) "
        f"SELECT 'cmt_bench' || id, id, 'Thanks, we are looking into it.', FALSE, "
        "'support@example.com', "
        f"{ts('id + 5')} FROM tickets WHERE {window} AND id % 2 = 0 ORDER BY id",
        "INSERT INTO comments (desk_id, ticket_id, body, internal, author, created_at) "
        f"SELECT 'cmt_benchi' || id, id, 'Customer on the enterprise plan.', TRUE, "
        "'support@example.com', "
        f"{ts('id + 6')} FROM tickets WHERE {window} AND id % 6 = 0 ORDER BY id",
        "INSERT INTO ticket_tags (ticket_id, tag, position) "
        f"SELECT id, 'billing', 0 FROM tickets WHERE {window} AND id % 10 = 0",
        "INSERT INTO ticket_tags (ticket_id, tag, position) "
        f"SELECT id, 'safari', 1 FROM tickets WHERE {window} AND id % 7 = 0",
    ]
    return statements


async def seed_tickets(
    bench_db: BenchDatabase, product_id: int, count: int, *, chunk: int = 250_000
) -> float:
    """Insert ``count`` tickets (ids 1..count) in bulk; returns the seconds it took."""
    started = time.perf_counter()
    base = seed_base(count)
    engine = create_async_engine(bench_db.url, poolclass=NullPool)
    try:
        for start in range(1, count + 1, chunk):
            end = min(count, start + chunk - 1)
            async with engine.begin() as conn:
                if bench_db.kind == "sqlite":
                    await conn.exec_driver_sql("PRAGMA synchronous=OFF")
                else:
                    await conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                    # The rows are consistent by construction: skip the per-row foreign-key
                    # triggers (superuser only; without it seeding is just slower).
                    replica = False
                    with contextlib.suppress(Exception):
                        async with conn.begin_nested():
                            await conn.exec_driver_sql(
                                "SET LOCAL session_replication_role = replica"
                            )
                        replica = True
                for statement in seed_statements(bench_db.kind, product_id, start, end, base):
                    await conn.exec_driver_sql(statement)
                for statement in sla_statement(bench_db.kind, start, end).split("; "):
                    await conn.exec_driver_sql(statement)
                if bench_db.kind != "sqlite" and replica:
                    # Replica mode also silenced the ticket_counts trigger: count the new rows.
                    await conn.exec_driver_sql(
                        "INSERT INTO ticket_counts"
                        " (product_id, owner, status, tickets, resolved, resolution_seconds) "
                        "SELECT product_id, NULL, status, count(*), count(resolved_at), "
                        "coalesce(sum(EXTRACT(EPOCH FROM (resolved_at - created_at))), 0) "
                        "FROM tickets "
                        f"WHERE deleted_at IS NULL AND id BETWEEN {start} AND {end} "
                        "GROUP BY product_id, status"
                    )
                    # And the sla_counts trigger (migration 0011).
                    outcomes = "priority, sla_response_outcome, sla_resolution_outcome"
                    await conn.exec_driver_sql(
                        "INSERT INTO sla_counts (product_id, owner, priority, response_outcome,"
                        " resolution_outcome, tickets, resolved, resolution_minutes) "
                        f"SELECT product_id, NULL, {outcomes}, count(*), "
                        "count(sla_resolution_minutes), coalesce(sum(sla_resolution_minutes), 0) "
                        "FROM tickets "
                        f"WHERE deleted_at IS NULL AND id BETWEEN {start} AND {end} "
                        f"GROUP BY product_id, {outcomes}"
                    )
        async with engine.begin() as conn:
            if bench_db.kind == "postgres":
                for table in ("tickets", "stage_transitions", "comments"):
                    await conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
        # The triggers counted every new ticket for the desk stats: fold the deltas now, as
        # the server does every minute.
        db = Database(bench_db.url, pool_size=1)
        try:
            async with db.begin() as session:
                await compact_counts(session, min_rows=0)
        finally:
            await db.dispose()
        await analyze(engine, bench_db.kind)
    finally:
        await engine.dispose()
    return time.perf_counter() - started


STAFF_SESSION = "bench-staff-session-0123456789abcdef0123456789"


async def add_staff_admin(url: str) -> str:
    """A staff admin with a signed-in session (the workspace's cookie value, returned), so the
    benchmark reads the inbox as a person does; written as bot.staff.sessions writes it."""
    from storage.models import StaffAccount, StaffSession
    from storage.types import utcnow

    db = Database(url, pool_size=1)
    try:
        async with db.begin() as session:
            account = StaffAccount(
                desk_id=ids.new_desk_id("stf"),
                email="bench-admin@example.com",
                display_name="Bench Admin",
                role="admin",
                product_ids=[],
            )
            session.add(account)
            await session.flush()
            now = utcnow()
            session.add(
                StaffSession(
                    id_hash=ids.hash_secret(STAFF_SESSION),
                    staff_id=account.id,
                    csrf_token="bench-csrf",
                    created_at=now,
                    last_seen_at=now,
                )
            )
    finally:
        await db.dispose()
    return STAFF_SESSION


async def add_time_entries(bench_db: BenchDatabase, client_id: int, count: int) -> None:
    """``count`` billable time entries of ``client_id`` on tickets 1..count, in the last 30
    days (an invoice's period), 5 to 120 minutes each."""
    with_, from_ = _series(bench_db.kind, 1, count)
    base = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M:00")
    started = _ts(bench_db.kind, "n * 4 % 40000", base)
    engine = create_async_engine(bench_db.url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                f"{with_}INSERT INTO time_entries (desk_id, ticket_id, technician, minutes,"
                " description, billable, started_at, client_id, created_at, updated_at) "
                "SELECT 'tim_bench' || n, n, 'agent' || (n % 6) || '@example.com',"
                " 5 + n % 116, 'Investigated and answered', TRUE,"
                f" {started}, {client_id}, {started}, {started} FROM {from_}"
            )
    finally:
        await engine.dispose()


async def analyze(engine: AsyncEngine, kind: str) -> None:
    if kind == "sqlite":
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    else:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE")


async def database_size_mb(bench_db: BenchDatabase) -> float:
    if bench_db.kind == "sqlite":
        assert bench_db.path is not None
        files = [Path(f"{bench_db.path}{suffix}") for suffix in ("", "-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) / 2**20
    engine = create_async_engine(bench_db.url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            size = await conn.scalar(text("SELECT pg_database_size(current_database())"))
    finally:
        await engine.dispose()
    return size / 2**20


async def scalar(url: str, sql: str, **params):
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(text(sql), params)
    finally:
        await engine.dispose()


async def rows(url: str, sql: str, **params) -> list:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


if __name__ == "__main__":  # a quick manual check: python -m bench.seed N
    import sys
    import tempfile

    async def main(count: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for kind in sys.argv[2:] or ["sqlite"]:
                async with fresh_database(kind, Path(tmp), DEFAULT_POSTGRES_URL) as bench_db:
                    product_id, _ = await add_product_and_key(bench_db.url)
                    seconds = await seed_tickets(bench_db, product_id, count)
                    print(
                        kind, count, f"{seconds:.1f}s", f"{await database_size_mb(bench_db):.0f} MB"
                    )

    asyncio.run(main(int(sys.argv[1])))
