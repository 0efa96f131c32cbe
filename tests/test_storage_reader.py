"""The Reader (plain SQL for hot reads) sees every commit at once and never writes."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from storage.models import Comment, StageTransition, Ticket
from storage.reader import utc
from storage.reads import tracking

NOW = dt.datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=dt.UTC)


async def add_ticket(db, number: int, *, stage: str = "RECEIVED") -> None:
    async with db.begin() as session:
        session.add(Ticket(id=number, desk_id=f"tkt_{number}", subject="Export fails",
                           body="b", submitter_email="a@example.com", tracking_token_hash="h" * 64,
                           stage=stage, created_at=NOW, updated_at=NOW))


async def test_a_commit_is_seen_by_the_next_read_never_a_stale_stage(db):
    await add_ticket(db, 7)
    first = await tracking.ticket_with_history(db.reader, 7)
    assert first.stage == "RECEIVED" and first.transitions == []

    async with db.begin() as session:
        ticket = await session.get(Ticket, 7)
        ticket.stage = "ISSUE_CREATED"
        session.add(StageTransition(ticket_id=7, from_stage="RECEIVED", to_stage="ISSUE_CREATED",
                                    at=NOW, cause="issue_opened", description="Issue opened"))
    again = await tracking.ticket_with_history(db.reader, 7)
    assert again.stage == "ISSUE_CREATED"
    assert [(s.from_stage, s.to_stage, s.at) for s in again.transitions] == [
        ("RECEIVED", "ISSUE_CREATED", NOW)
    ]
    assert again.created_at == NOW and again.created_at.tzinfo is not None


async def test_missing_ticket_is_none_and_only_public_comments_are_read(db):
    assert await tracking.ticket_with_history(db.reader, 404) is None
    await add_ticket(db, 8)
    async with db.begin() as session:
        for desk_id, body, internal in [("c1", "We are on it", False), ("c2", "VIP", True)]:
            session.add(Comment(desk_id=desk_id, ticket_id=8, body=body, internal=internal,
                                author="ana@example.com", public_author="Ana from Support",
                                created_at=NOW))
    comments = await tracking.public_comments(db.reader, 8)
    # The public name only: the staff author (here an email address) is not even read.
    assert [(c.body, c.public_author, c.created_at) for c in comments] == [
        ("We are on it", "Ana from Support", NOW)
    ]


async def test_the_sqlite_reader_cannot_write(db):
    if db.reader.dialect != "sqlite":
        pytest.skip("the read-only connection is SQLite's")
    with pytest.raises(sqlite3.OperationalError):
        await db.reader.fetch("DELETE FROM tickets")


def test_utc_reads_both_databases_timestamps():
    assert utc("2026-11-26 01:02:03.456789") == NOW
    assert utc(NOW.replace(tzinfo=None)) == NOW
    assert utc(NOW.astimezone(dt.timezone(dt.timedelta(hours=2)))) == NOW
    assert utc(None) is None
