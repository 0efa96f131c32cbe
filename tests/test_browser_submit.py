"""The submission form in a real browser (Debian's Chromium through Playwright, launched as
``tests/test_browser.py`` does, whose fixtures these tests share): from the landing page to the
form, the server's messages beside the fields, a ticket sent, its tracking link followed; and
the same on a phone with JavaScript off. The form with its messages is photographed for the
README (``docs/submit-form.png``: set ``TINYDESK_SCREENSHOTS=docs`` to write it there)."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest

from tests import test_browser
from tests.conftest import ADMIN_HEADERS
from tests.test_browser import CHROMIUM, WAIT_MS, register_product

# tests/test_browser.py's fixtures: SQLite, one Chromium, a fresh page, a served TinyDesk.
database_url = test_browser.database_url
browser = test_browser.browser
page = test_browser.page
base = test_browser.base

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]


async def test_a_visitor_sees_the_errors_then_submits_and_follows_the_tracking_link(
    base, page, tmp_path
):
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/api/admin/products",
            json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app", "name": "My SaaS App"},
            headers=ADMIN_HEADERS,
        ) as resp,
    ):
        assert resp.status == 201
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(f"{base}/")
    await page.click("main a.button:has-text('Submit a ticket')")
    await page.wait_for_selector("h1:has-text('Submit a ticket')")
    await page.click("nav[aria-label=Products] a:has-text('My SaaS App')")
    await page.wait_for_selector("form.submit-form")

    await page.get_by_label("Email").fill("ada@example")
    await page.get_by_label("Description").fill("Clicking Sign In does nothing.")
    await page.get_by_label("Screenshot link 1").fill("ftp://example.com/shot.png")
    await page.click("button:has-text('Send ticket')")
    await page.wait_for_selector(".error-summary")
    assert await page.inner_text("#email-error") == "Invalid email address"
    assert await page.inner_text("#subject-error") == "subject is required"
    assert await page.inner_text("#screenshots-error") == "screenshots[0] must be an http(s) URL"
    # each message is announced with its field, and what was typed is still there
    email = page.get_by_label("Email")
    assert await email.get_attribute("aria-invalid") == "true"
    assert "email-error" in (await email.get_attribute("aria-describedby") or "")
    assert await page.input_value("#submit-body") == "Clicking Sign In does nothing."
    assert await page.input_value("#submit-screenshot-1") == "ftp://example.com/shot.png"
    assert await page.get_attribute("#submit-screenshot-1", "aria-invalid") == "true"
    assert await page.get_attribute("#submit-screenshot-2", "aria-invalid") is None
    # the honeypot is out of sight, left of the page
    box = await page.locator("#submit-website").bounding_box()
    assert box is not None and box["x"] + box["width"] < 0
    shot = Path(os.environ.get("TINYDESK_SCREENSHOTS") or tmp_path) / "submit-form.png"
    png = await page.screenshot(path=shot, full_page=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"

    await email.fill("ada@example.com")
    await page.get_by_label("Subject").fill("Sign-in button dead on Safari")
    await page.get_by_label("Screenshot link 1").fill("https://cdn.example.com/shot.png")
    await page.click("button:has-text('Send ticket')")
    await page.wait_for_selector("h1:has-text('Ticket received')")
    assert await page.inner_text("#public-id") == "TK-00001"
    link = await page.input_value("#tracking-url")
    assert link.startswith(f"{base}/track/TK-00001?token=")
    assert await page.get_attribute("#tracking-link", "href") == link

    await page.click("#tracking-link")
    await page.wait_for_selector("h1:has-text('Ticket TK-00001')")
    assert await page.inner_text(".subject") == "Sign-in button dead on Safari"
    # no CSP violation (an inline style or script) on the way; the 400 page and the missing
    # favicon are logged as failed loads, which they are
    assert [p for p in problems if "Content Security Policy" in p] == []


async def test_the_form_works_on_a_phone_without_javascript(base, browser):
    await register_product(base)
    context = await browser.new_context(
        viewport={"width": 360, "height": 740}, java_script_enabled=False, is_mobile=True
    )
    context.set_default_timeout(WAIT_MS)
    try:
        page = await context.new_page()
        await page.goto(f"{base}/submit/my-saas-app")
        # nothing wider than the screen: no sideways scrolling
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        await page.get_by_label("Email").fill("bob@example.com")
        await page.get_by_label("Subject").fill("Export is slow")
        await page.get_by_label("Description").fill("Ten minutes for 100 rows.")
        await page.click("button:has-text('Send ticket')")
        await page.wait_for_selector("h1:has-text('Ticket received')")
        assert await page.inner_text("#public-id") == "TK-00001"
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        await context.close()
