"""The admin SLA views, with the app's clock set by the test: the breaches page (and its
"due within" list), the tickets list's SLA column, and the SLA rows of a ticket's page."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import bearer, make_key
from tests.test_web_admin import sign_in

UTC = dt.UTC
LISTED = re.compile(r'<a href="/admin/tickets/(TK-\d+)">')


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
async def admin(db, aiohttp_client):
    clock = Clock()
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = clock
    client = await aiohttp_client(app)
    headers = bearer(await make_key(client))

    async def ticket(priority: str, subject: str) -> str:
        body = {"subject": subject, "body": "b", "email": "c@example.com", "priority": priority}
        resp = await client.post("/api/v1/desk/tickets", json=body, headers=headers)
        assert resp.status == 201
        return (await resp.json())["publicId"]

    late = await ticket("urgent", "Late one")  # response due 10:30
    clock.at = dt.datetime(2026, 12, 1, 10, 50, tzinfo=UTC)
    soon = await ticket("urgent", "Soon one")  # response due 11:20
    clock.at = dt.datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    await sign_in(client)
    return client, late, soon


async def test_the_breaches_page_lists_the_broken_promise_and_by_how_much(admin):
    client, late, _soon = admin
    resp = await client.get("/admin/breaches")
    assert resp.status == 200
    page = await resp.text()
    assert LISTED.findall(page) == [late]
    assert "Response" in page and "overdue by 30 min" in page


async def test_due_within_lists_what_is_about_to_breach(admin):
    client, _late, soon = admin
    page = await (await client.get("/admin/breaches?dueWithin=30m")).text()
    assert LISTED.findall(page) == [soon]
    assert "About to breach" in page and "20 min left" in page


async def test_a_bad_window_is_a_400_with_the_reason_and_the_form_kept(admin):
    client, _, _ = admin
    resp = await client.get("/admin/breaches?dueWithin=soon")
    assert resp.status == 400
    page = await resp.text()
    assert "Invalid dueWithin" in page and 'value="soon"' in page


async def test_the_tickets_list_has_an_sla_column_and_a_ticket_page_its_clocks(admin):
    client, late, soon = admin
    listing = await (await client.get("/admin/tickets")).text()
    assert "<th scope=\"col\">SLA</th>" in listing or ">SLA<" in listing
    assert listing.count("breached") == 1  # the late ticket only
    page = await (await client.get(f"/admin/tickets/{late}")).text()
    assert "SLA policy" in page and "Default" in page
    assert "breached" in page and "overdue by 30 min" in page
    page = await (await client.get(f"/admin/tickets/{soon}")).text()
    assert "running" in page and "20 min left" in page


async def test_the_breaches_page_needs_a_session(db, aiohttp_client):
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    client = await aiohttp_client(app)
    resp = await client.get("/admin/breaches", allow_redirects=False)
    assert resp.status in (302, 303, 401)
