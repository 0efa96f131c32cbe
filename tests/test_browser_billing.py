"""Issue 16's admin billing pages in a real browser (Debian's Chromium through Playwright, as
``tests/test_browser.py`` launches it, whose fixtures these tests share): an admin makes a
client and a time-based contract with the forms, logs time on a ticket's page, makes a draft
invoice, issues it and downloads its PDF. The issued invoice's page is photographed for the
README (``docs/admin-invoice.png``: set ``TINYDESK_SCREENSHOTS=docs`` to write it there)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from tests import test_browser
from tests.conftest import ADMIN_TOKEN
from tests.test_browser import CHROMIUM, sign_in
from tests.web_helpers import open_test_ticket

# tests/test_browser.py's fixtures: SQLite, one Chromium, a fresh page.
database_url = test_browser.database_url
browser = test_browser.browser
page = test_browser.page

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
async def base(aiohttp_server, db) -> str:
    """A served TinyDesk whose clock says 2 December 2026, 10:00 UTC."""
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = lambda: NOW
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}"


async def fill(page, fields: dict[str, str]) -> None:
    for selector, value in fields.items():
        await page.fill(selector, value)


async def test_an_admin_bills_time_on_a_ticket_and_downloads_the_invoice_pdf(
    base, db, page, tmp_path
):
    public_id, _ = await open_test_ticket(
        db, product_slug=None, email="it@acme.test", subject="VPN drops every hour"
    )
    await sign_in(page, base, "/admin/clients")

    await fill(
        page,
        {
            "#name": "Acme GmbH",
            "#address": "Hauptstraße 1\n10115 Berlin",
            "#taxId": "DE123456789",
            "#email": "billing@acme.test",
            "#currency": "EUR",
            "#hourlyRate": "95.00",
            "#timeZone": "Europe/Berlin",
            "#taxes": "VAT 19",
            "#domains": "acme.test",
        },
    )
    await page.click("button:has-text('Add client')")
    await page.wait_for_selector("p.notice:has-text('Client Acme GmbH added.')")

    await page.click("nav a:has-text('Contracts')")
    await page.wait_for_selector("h1:has-text('Contracts')")
    await page.select_option("#client", label="Acme GmbH (EUR)")
    await page.select_option("#kind", "time_based")
    await fill(
        page,
        {
            "#name": "Support 10 h",
            "#startsOn": "2026-12-01",
            "#increment": "15",
            "#hoursPerPeriod": "10",
            "#hourlyRate": "85.00",
            "#overageRate": "110.00",
        },
    )
    await page.check("#rollover")
    await page.click("button:has-text('Add contract')")
    await page.wait_for_selector("h1:has-text('Contract Support 10 h')")
    assert "10.00 h" in await page.inner_text("dl.facts")

    # Time on the ticket, logged by the signed-in admin: 100 minutes on the contract, 45 on
    # none (billed at the client's 95.00), 20 not billable.
    await page.goto(f"{base}/admin/tickets/{public_id}")
    assert "Acme GmbH" in await page.inner_text("#time-heading + p")
    for minutes, what, contract, billable in (
        ("100", "Rebuilt the VPN tunnel", "Support 10 h", True),
        ("45", "Replaced the office router", "None", True),
        ("20", "Call about the invoice", "None", False),
    ):
        await fill(page, {"#time-minutes": minutes, "#time-description": what})
        await page.select_option("#time-contract", label=contract)
        await page.set_checked("#time-billable", billable)
        await page.click("button:has-text('Log time')")
        await page.wait_for_selector("p.notice:has-text('Time logged.')")
    totals = await page.inner_text("p.time-totals")
    assert totals == "165 min in all (2.75 h): 145 min billable, 20 min not billable."
    assert await page.locator("section:has(#time-heading) tbody tr").count() == 3

    await page.click("nav a:has-text('Invoices')")
    await page.select_option("#client", label="Acme GmbH (EUR)")
    await fill(page, {"#periodEnd": "2026-12-31"})
    await page.click("button:has-text('Make draft')")
    await page.wait_for_selector("h1:has-text('Invoice draft')")
    # The bank (10 h at 85.00), the contract's time (100 min, billed 105) from it, and
    # 45 min at 95.00 = 71.25; 921.25 + 19 % VAT (175.04) = 1096.29.
    lines = await page.inner_text("section:has(#lines-heading) tbody")
    assert "850.00 EUR" in lines and "71.25 EUR" in lines
    assert await page.inner_text("dd.invoice-total") == "1096.29 EUR"

    await fill(page, {"#issueDate": "2026-12-02"})
    await page.click("button:has-text('Issue invoice')")
    await page.wait_for_selector("h1:has-text('Invoice INV-2026-0001')")
    assert "Invoice issued" in await page.inner_text("p.notice")

    async with page.expect_download() as download_info:
        await page.click("a:has-text('Download PDF')")
    download = await download_info.value
    assert download.suggested_filename == "INV-2026-0001.pdf"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"

    shot = Path(os.environ.get("TINYDESK_SCREENSHOTS") or tmp_path) / "admin-invoice.png"
    png = await page.screenshot(path=shot, full_page=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
