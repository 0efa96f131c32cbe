"""The staff workspace in a real browser (Debian's Chromium through Playwright, as
tests/test_browser.py launches it): an invited agent sets a password through the link, lands
in the inbox, opens a ticket and answers it with a reply and an internal note; a viewer sees
the page without the forms."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from storage.models import Comment
from tests import test_browser
from tests.conftest import ADMIN_HEADERS
from tests.test_browser import CHROMIUM, register_product
from tests.web_helpers import open_test_ticket

database_url = test_browser.database_url
browser = test_browser.browser
page = test_browser.page
base = test_browser.base

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]


async def invite(base: str, email: str, name: str, role: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/api/admin/staff",
            json={"email": email, "name": name, "role": role},
            headers=ADMIN_HEADERS,
        ) as resp:
            assert resp.status == 201, await resp.text()
            link = (await resp.json())["link"]
    return base + link[link.index("/desk/invite/") :]


async def test_an_agent_sets_a_password_and_answers_a_ticket(base, db, page):
    await register_product(base)
    await open_test_ticket(db, subject="Export fails on Safari")
    await page.goto(await invite(base, "ada@support.test", "Ada", "agent"))
    await page.fill("#password", "correct horse battery staple")
    await page.click("button:has-text('Set password')")
    await page.wait_for_selector("h1:has-text('Inbox')")
    assert await page.locator("text=Signed in as Ada (agent).").is_visible()
    await page.click("tbody a:has-text('TK-00001')")
    await page.wait_for_selector("h1:has-text('Export fails on Safari')")
    await page.fill("#reply", "We found the cause.")
    await page.click("button:has-text('Send reply')")
    await page.wait_for_selector("text=Reply sent.")
    await page.fill("#note", "Only for staff")
    await page.click("button:has-text('Add note')")
    await page.wait_for_selector("text=Note added.")
    assert await page.locator(".comment.internal").count() == 1
    await page.click("button:has-text('Log 15 min')")
    await page.wait_for_selector("text=15 min logged")
    async with db.session() as session:
        authors = [(c.author, c.internal) for c in await session.scalars(select(Comment))]
    assert authors == [("ada@support.test", False), ("ada@support.test", True)]
    # Signed out, the workspace asks to sign in again; the password works.
    await page.click("button:has-text('Sign out everywhere')")
    await page.wait_for_selector("h1:has-text('Sign in')")
    await page.fill("#email", "ada@support.test")
    await page.fill("#password", "correct horse battery staple")
    await page.click("form button:has-text('Sign in')")
    await page.wait_for_selector("h1:has-text('Inbox')")


async def test_a_viewer_sees_no_forms(base, db, page):
    await register_product(base)
    await open_test_ticket(db, subject="Printer on fire")
    await page.goto(await invite(base, "vi@support.test", "Vi", "viewer"))
    await page.fill("#password", "correct horse battery staple")
    await page.click("button:has-text('Set password')")
    await page.goto(f"{base}/desk/tickets/TK-00001")
    await page.wait_for_selector("h1:has-text('Printer on fire')")
    assert await page.locator("#reply").count() == 0


async def test_keyboard_shortcuts_move_and_focus(base, db, page):
    await register_product(base)
    for subject in ("First", "Second"):
        await open_test_ticket(db, subject=subject)
    await page.goto(await invite(base, "ka@support.test", "Ka", "agent"))
    await page.fill("#password", "correct horse battery staple")
    await page.click("button:has-text('Set password')")
    await page.wait_for_selector("h1:has-text('Inbox')")
    await page.keyboard.press("j")
    assert await page.evaluate("document.activeElement.textContent") == "TK-00002"
    await page.keyboard.press("j")
    assert await page.evaluate("document.activeElement.textContent") == "TK-00001"
    await page.keyboard.press("k")
    assert await page.evaluate("document.activeElement.textContent") == "TK-00002"
    await page.keyboard.press("?")
    assert await page.locator("#shortcuts").is_visible()
    await page.keyboard.press("Enter")  # opens the selected ticket
    await page.wait_for_selector("h1:has-text('Second')")
    await page.keyboard.press("r")
    assert await page.evaluate("document.activeElement.id") == "reply"
    await page.keyboard.type("typed r stays text")
    assert await page.input_value("#reply") == "typed r stays text"
    await page.keyboard.press("Escape")
    await page.keyboard.press("n")
    assert await page.evaluate("document.activeElement.id") == "note"
