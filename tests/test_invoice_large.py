"""A client with more time entries than one statement may name (33,000: past the parameter
caps of SQLite, 32,766, and PostgreSQL, 32,767, which an IN list of every entry hit) is
invoiced whole: every entry becomes a line copying its ticket's subject and is claimed by
the draft, on each database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select

from bot.billing import invoices
from bot.config import Seller
from bot.rules import ids
from bot.rules.billing_input import validate_draft
from storage.models import Client, InvoiceLine, TimeEntry
from storage.types import utcnow
from tests.web_helpers import open_test_ticket

ENTRIES = 33_000


@pytest.mark.slow
async def test_a_client_with_33_000_entries_is_invoiced_whole(db):
    public_ids = [
        (await open_test_ticket(db, product_slug=None, subject=f"Ticket {n}"))[0] for n in range(3)
    ]
    numbers = [ids.parse_public_id(p) for p in public_ids]
    now = utcnow()
    async with db.begin() as session:
        client = Client(
            desk_id=ids.new_desk_id("cli"), name="Big", currency="EUR", hourly_rate=6000
        )
        session.add(client)
        await session.flush()
        started = now - dt.timedelta(days=3)
        await session.execute(
            insert(TimeEntry),
            [
                {
                    "desk_id": f"tim_large_{n}",
                    "ticket_id": numbers[n % 3],
                    "technician": "ada@support.test",
                    "minutes": 15,
                    "description": f"Work {n}",
                    "billable": True,
                    "started_at": started + dt.timedelta(seconds=n),
                    "client_id": client.id,
                }
                for n in range(ENTRIES)
            ],
        )
        client_id = client.id
    async with db.begin() as session:
        client = await session.get(Client, client_id)
        fields = validate_draft({"client": client.desk_id, "periodEnd": now.date().isoformat()})
        invoice = await invoices.make_draft(session, client, fields, Seller(), "test", now)
        view = await invoices.view_of(session, invoice)
    assert len(view["lines"]) == ENTRIES
    assert {line["ticket"]["subject"] for line in view["lines"]} == {
        "Ticket 0",
        "Ticket 1",
        "Ticket 2",
    }
    assert view["subtotal"].replace(",", "") == "495000.00"  # 33,000 x 15 min at 60.00 an hour
    async with db.session() as session:
        claimed = await session.scalar(
            select(func.count()).select_from(TimeEntry).where(TimeEntry.invoice_id == invoice.id)
        )
        stored = await session.scalar(
            select(func.count())
            .select_from(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
        )
    assert claimed == stored == ENTRIES
