"""The README's pictures of the workspace, taken from the showcase desk (tests/showcase.py) as an
agent sees it: the inbox, and a ticket page at desktop and phone width. Each is checked for
what it must show before it is kept (rows with clocks and stage badges; the conversation
with its internal note marked, the pipeline, the time logged), so a picture of an error
page or an empty inbox fails the test instead of landing in docs/.

They are written to pytest's temporary folder; to refresh the README's copies, run this file
with ``TINYDESK_SCREENSHOTS_DIR=docs``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from tests import test_browser
from tests.showcase import AGENT, INTERNAL_NOTE, PUBLIC_REPLY, build
from tests.test_browser import CHROMIUM, WAIT_MS
from tests.test_browser_a11y import staff_sign_in

database_url = test_browser.database_url
browser = test_browser.browser
base = test_browser.base

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    chosen = os.environ.get("TINYDESK_SCREENSHOTS_DIR")
    path = Path(chosen) if chosen else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


async def test_the_inbox_and_ticket_page_pictures_show_a_working_desk(browser, base, db, outdir):
    showcase = await build(base, db)
    ticket = showcase.values["progress_id"]
    sign_in = staff_sign_in(base, AGENT[0], base + showcase.invite_links[AGENT[0]])
    for viewport, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        context = await browser.new_context(viewport=viewport)
        context.set_default_timeout(WAIT_MS)
        try:
            page = await context.new_page()
            await sign_in(page)
            if not suffix:
                rows = page.locator("#inbox-list tbody tr")
                assert await rows.count() >= 5
                assert await page.locator("#inbox-list .stage-badge").count() >= 5
                assert await page.locator("#inbox-list .sla-clock").count() >= 1
                shot = outdir / "inbox.png"
                await page.screenshot(path=shot)
                assert png_size(shot) == (DESKTOP["width"], DESKTOP["height"])
            await page.goto(f"{base}/desk/tickets/{ticket}")
            await page.wait_for_selector("h1:has-text('Login button unresponsive on Safari')")
            internal = page.locator(".comment.internal")
            assert await internal.count() == 1 and INTERNAL_NOTE in await internal.inner_text()
            assert await page.locator(f".comment:not(.internal):has-text('{PUBLIC_REPLY}')").count()
            current = page.locator("ol.pipeline .stage.current")
            assert await current.inner_text() == "Pull request open"
            shot = outdir / f"ticket{suffix}.png"
            await page.screenshot(path=shot, full_page=True)
            width, height = png_size(shot)
            assert width == viewport["width"] and height >= viewport["height"]
        finally:
            await context.close()
