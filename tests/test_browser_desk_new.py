"""A ticket typed in from a template, in a real browser (Debian's Chromium through Playwright,
as tests/test_browser_desk.py runs it): an agent opens New ticket from the workspace's
navigation, picks a template (the form fills itself, no JavaScript involved), adds the
requester and lands on the new ticket's page, which is the template's and marked manual."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from storage.models import Ticket
from tests import test_browser
from tests.conftest import ADMIN_HEADERS
from tests.test_browser import CHROMIUM, register_product
from tests.test_browser_desk import invite

database_url = test_browser.database_url
browser = test_browser.browser
page = test_browser.page
base = test_browser.base

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]


async def a_template(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/api/admin/templates",
            json={
                "name": "VPN Configuration Request",
                "subject": "VPN access for a new laptop",
                "body": "Install the VPN client and issue a certificate.",
                "priority": "high",
                "category": "Network",
                "productSlug": "my-saas-app",
            },
            headers=ADMIN_HEADERS,
        ) as resp:
            assert resp.status == 201, await resp.text()


async def test_an_agent_creates_a_ticket_from_a_template_and_lands_on_it(base, db, page):
    await register_product(base)
    await a_template(base)
    await page.goto(await invite(base, "ada@support.test", "Ada", "agent"))
    await page.fill("#password", "correct horse battery staple")
    await page.click("button:has-text('Set password')")
    await page.wait_for_selector("h1:has-text('Inbox')")
    await page.click("nav a:has-text('New ticket')")
    await page.wait_for_selector("h1:has-text('New ticket')")
    await page.select_option("#template", label="VPN Configuration Request")
    await page.click("button:has-text('Use template')")
    await page.wait_for_selector("text=From template")
    assert await page.input_value("#subject") == "VPN access for a new laptop"
    assert await page.input_value("#priority") == "high"
    await page.fill("#email", "cy@example.com")
    await page.fill("#name", "Cy")
    await page.click("button:has-text('Create ticket')")
    await page.wait_for_selector("h1:has-text('VPN access for a new laptop')")
    assert page.url.endswith("/desk/tickets/TK-00001")
    async with db.session() as session:
        ticket = await session.scalar(select(Ticket))
    assert (ticket.source_type, ticket.category, ticket.priority) == ("manual", "Network", "high")
    assert ticket.body == "Install the VPN client and issue a certificate."
