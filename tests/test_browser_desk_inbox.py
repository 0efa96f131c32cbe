"""The inbox's live updates in a real browser (Debian's Chromium through Playwright): a ticket
that arrives while the inbox is open is announced ("1 new or changed ticket — Show") without
a reload and without moving the rows under the agent; Show brings its row in, and the ticket
the agent had selected with j stays selected."""

from __future__ import annotations

import pytest

from tests import test_browser
from tests.test_browser import CHROMIUM, register_product
from tests.test_browser_desk import invite
from tests.web_helpers import open_test_ticket

database_url = test_browser.database_url
browser = test_browser.browser
page = test_browser.page
base = test_browser.base

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]

ROWS = "#inbox-list tbody tr"


async def test_a_new_ticket_is_announced_and_shown_when_asked(base, db, page):
    await register_product(base)
    await open_test_ticket(db, subject="Already here")
    await page.goto(await invite(base, "ada@support.test", "Ada", "agent"))
    await page.fill("#password", "correct horse battery staple")
    await page.click("button:has-text('Set password')")
    await page.wait_for_selector("h1:has-text('Inbox')")
    await page.keyboard.press("j")
    assert await page.evaluate("document.activeElement.textContent") == "TK-00001"
    await page.evaluate("window.sameDocument = true")  # gone if the page reloads

    await open_test_ticket(db, subject="Arrived while open")
    notice = page.locator("#inbox-live")
    await notice.locator("text=1 new or changed ticket").wait_for(timeout=20_000)
    # Announced, not applied: the rows and the selection are as the agent left them.
    assert await page.locator(ROWS).count() == 1
    assert await page.locator("text=Arrived while open").count() == 0
    assert await page.locator(f"{ROWS}.selected").get_attribute("data-ticket") == "TK-00001"

    await notice.locator("button:has-text('Show')").click()
    await page.locator(f"{ROWS}[data-ticket='TK-00002']").wait_for()
    assert await page.locator(ROWS).count() == 2
    assert await page.locator("text=Arrived while open").is_visible()
    assert await page.locator(f"{ROWS}.selected").get_attribute("data-ticket") == "TK-00001"
    assert await notice.inner_text() == ""
    # No reload happened, and j still moves on from the selected ticket.
    assert await page.evaluate("window.sameDocument === true")
    assert await page.evaluate("location.pathname") == "/desk"
    await page.keyboard.press("k")
    assert await page.evaluate("document.activeElement.textContent") == "TK-00002"


async def test_the_inbox_fits_a_360_px_screen(base, db, page):
    """Views and filters wrap; the dense table scrolls inside its own region, not the page."""
    await register_product(base)
    await open_test_ticket(db, subject="A rather long subject line that would not fit on a phone")
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.goto(await invite(base, "ada@support.test", "Ada", "agent"))
    await page.fill("#password", "correct horse battery staple")
    await page.click("button:has-text('Set password')")
    await page.wait_for_selector("h1:has-text('Inbox')")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert await page.locator("#f-q").is_visible()
    assert await page.locator(".table-scroll").evaluate("e => e.scrollWidth > e.clientWidth")
