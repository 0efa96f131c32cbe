"""The tracking page in a real browser (issue 17, item 7): it backs off while nothing changes,
never polls a CLOSED ticket, stops (and says how it ended) when its ticket closes while it is
open, and shows times in the reader's time zone. Chromium from Debian, via Playwright."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.test_browser import (  # the browser fixtures and the page server
    CHROMIUM,
    WAIT_MS,
    browser,  # noqa: F401  (a fixture)
    database_url,  # noqa: F401  (a fixture)
    register_product,
    serve,
)
from tests.web_helpers import move_ticket, open_test_ticket

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]

# The first wait, shortened: 0.2 s, then 0.4, 0.8, 1.6, 3.2 ... (at most 12 s).
POLL = 0.2


@pytest.fixture
async def base(aiohttp_server, db) -> str:
    url = await serve(aiohttp_server, db, tracking_poll_seconds=POLL)
    await register_product(url)
    return url


@pytest.fixture
async def context(browser) -> AsyncIterator:  # noqa: F811
    made = await browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB")
    made.set_default_timeout(WAIT_MS)
    try:
        yield made
    finally:
        await made.close()


def count_polls(page) -> list[str]:
    polls: list[str] = []
    page.on(
        "request",
        lambda request: polls.append(request.url) if "/api/tickets/" in request.url else None,
    )
    return polls


async def test_a_quiet_ticket_is_asked_less_and_less_often(base, db, context):
    public_id, token = await open_test_ticket(db)
    page = await context.new_page()
    polls = count_polls(page)
    await page.goto(f"{base}/track/{public_id}?token={token}")
    await page.wait_for_selector('main[data-live="on"]')
    await asyncio.sleep(3.3)
    # At a fixed 0.2 s it would be 16 polls; backing off: 0.2, 0.6, 1.4, 3.0 s.
    assert 3 <= len(polls) <= 5, polls
    # News brings the pace back: the change is drawn without a reload.
    await move_ticket(db, public_id, "ISSUE_CREATED")
    await page.wait_for_selector('li.step.is-current[data-stage="ISSUE_CREATED"]', timeout=15_000)


async def test_a_closed_ticket_is_never_polled(base, db, context):
    public_id, token = await open_test_ticket(db)
    await move_ticket(db, public_id, "ISSUE_CREATED", "CLOSED", reason="not_planned")
    page = await context.new_page()
    polls = count_polls(page)
    await page.goto(f"{base}/track/{public_id}?token={token}")
    await asyncio.sleep(1.5)
    assert polls == []
    assert await page.inner_text(".finished-words") == "Closed: not planned."
    assert "nothing more is on its way" in await page.inner_text("#live-note")


async def test_a_ticket_that_closes_while_open_stops_polling_and_says_so(base, db, context):
    public_id, token = await open_test_ticket(db)
    page = await context.new_page()
    polls = count_polls(page)
    await page.goto(f"{base}/track/{public_id}?token={token}")
    await page.wait_for_selector('main[data-live="on"]')
    await move_ticket(db, public_id, "ISSUE_CREATED", "CLOSED", reason="duplicate")
    await page.wait_for_selector("#finished", timeout=15_000)
    assert await page.inner_text(".finished-words") == "Closed: a duplicate."
    seen = len(polls)
    await asyncio.sleep(2.0)
    assert len(polls) == seen  # nothing more is asked once it is closed


async def test_times_are_shown_in_the_readers_time_zone(base, db, context):
    public_id, token = await open_test_ticket(db)
    page = await context.new_page()
    await page.goto(f"{base}/track/{public_id}?token={token}")
    await page.wait_for_selector('main[data-live="on"]')
    shown = await page.inner_text("#updated-at time")
    assert "GMT+9" in shown, shown  # Tokyo, named, not UTC
    assert "Asia/Tokyo" in await page.inner_text("#live-note")
    # The UTC time is kept in the title for whoever needs it.
    assert (await page.get_attribute("#updated-at time", "title") or "").endswith("UTC")
