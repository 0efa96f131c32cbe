"""Issue 14's admin pages in a real browser (Debian's Chromium through Playwright, launched as
``tests/test_browser.py`` does, whose fixtures these tests share): searching tickets by email
and by id, a ticket's GitHub links, replaying a failed job, and the API reference's anchors."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.web.api_docs import operation_anchor
from storage.models import Job, PullRequestLink, Ticket
from storage.repos.products import ProductRepo
from tests import test_browser
from tests.test_browser import CHROMIUM, register_product, sign_in
from tests.web_helpers import open_test_ticket

# tests/test_browser.py's fixtures: SQLite, one Chromium, a fresh page, a served TinyDesk.
database_url = test_browser.database_url
browser = test_browser.browser
page = test_browser.page
base = test_browser.base

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]


async def _search(page, text: str) -> list[str]:
    await page.fill("#q", text)
    await page.click("form.filters button[type=submit]")
    await page.wait_for_load_state()
    return [await a.inner_text() for a in await page.locator("tbody tr td:first-child a").all()]


async def test_an_admin_searches_tickets_and_opens_one_with_its_github_links(base, db, page):
    await register_product(base)
    await open_test_ticket(db, email="ada@example.com", subject="Safari sign-in broken")
    await open_test_ticket(db, email="bob@example.com", subject="Export is slow")
    await open_test_ticket(db, email="ada@example.com", subject="Dark mode colours")
    async with db.begin() as session:
        product = await ProductRepo(session).by_slug("my-saas-app")
        await session.execute(update(Ticket).where(Ticket.id == 1).values(issue_number=42))
        session.add(
            PullRequestLink(product_id=product.id, pr_number=43, issue_number=42, state="open")
        )
    await sign_in(page, base, "/admin/tickets")

    assert await _search(page, "ada@example.com") == ["TK-00003", "TK-00001"]
    assert "q=ada%40example.com" in page.url
    assert await page.input_value("#q") == "ada@example.com"
    assert await _search(page, "tk-00001") == ["TK-00001"]
    assert await _search(page, "no-such-words") == []
    assert await page.locator("text=No tickets match.").is_visible()
    # % and _ are characters like any other, not wildcards.
    assert await _search(page, "%") == []
    assert await _search(page, "_") == []

    assert await _search(page, "TK-00001") == ["TK-00001"]
    await page.click("tbody a:has-text('TK-00001')")
    await page.wait_for_selector("h1:has-text('Ticket TK-00001')")
    issue = page.locator("a:has-text('octo-org/my-saas-app#42')")
    assert await issue.get_attribute("href") == "https://github.com/octo-org/my-saas-app/issues/42"
    pull = page.locator("a:has-text('#43')")
    assert await pull.get_attribute("href") == "https://github.com/octo-org/my-saas-app/pull/43"
    assert "(open)" in await page.locator("dd", has=pull).inner_text()


async def test_an_admin_replays_a_failed_job_and_it_leaves_the_failed_list(base, db, page):
    await register_product(base)
    await open_test_ticket(db)
    async with db.begin() as session:
        job = Job(
            kind="create_issue",
            args={"ticket_id": 1},
            state="failed",
            attempts=8,
            last_error="GitHub answered 502 <Bad Gateway>",
        )
        session.add(job)
    await sign_in(page, base)
    await page.click("nav a:has-text('Failed jobs')")
    await page.wait_for_selector("h1:has-text('Failed jobs')")
    assert "GitHub answered 502 <Bad Gateway>" in await page.inner_text("pre.error-text")
    assert await page.locator("td a:has-text('TK-00001')").get_attribute("href") == (
        "/admin/tickets/TK-00001"
    )
    await page.click(f"button:has-text('Replay'):has(span:text-is(' job {job.id}'))")
    await page.wait_for_selector("p.notice")
    assert f"Job {job.id} queued again" in await page.inner_text("p.notice")
    assert await page.locator("text=No failed jobs.").is_visible()
    async with db.session() as session:
        assert (await session.get(Job, job.id)).state == "pending"


async def test_the_api_reference_opens_an_operation_from_its_table_of_contents(base, page):
    await page.goto(f"{base}/")
    await page.click("main a[href='/api/docs']")
    await page.wait_for_selector("h1:has-text('API reference')")
    anchor = operation_anchor("post", "/api/tickets")
    await page.click(f"#contents ~ ul a[href='#{anchor}']")
    assert page.url.endswith(f"/api/docs#{anchor}")
    section = page.locator(f"section#{anchor}")
    assert await section.is_visible()
    assert "POST /api/tickets" in await section.locator("h3").inner_text()
    box = await section.bounding_box()
    # Scrolled to it (a long document may land a fraction of a pixel past the top).
    assert box is not None and -1 <= box["y"] < 300
    # The reference is styled by site.css (no inline styles, which the CSP would block).
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.reload()
    assert errors == []
