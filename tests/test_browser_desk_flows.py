"""The staff workspace's user flows end to end in a real browser (issue 19; Debian's Chromium
through Playwright, launched as tests/test_browser.py does): sign-in with GitHub through the
fake GitHub's OAuth pages, an agent's reply reaching the submitter's mailbox (a real SMTP
sink) without the internal note, an internal note kept off the public tracking page and its
JSON, the SLA breaches page on the app's injected clock, and a viewer's forged edit refused."""

from __future__ import annotations

import datetime as dt

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from bot.jobs.worker import WORKERS
from bot.rules import ids
from bot.sim.stack import start_fake
from bot.staff import sessions
from storage.models import StaffAccount, StaffSession, Ticket
from tests import test_browser
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.deskkit import bearer, make_key
from tests.mail_sink import MailSink
from tests.test_browser import CHROMIUM, WAIT_MS, register_product, serve
from tests.test_browser_desk import invite
from tests.test_browser_mail import serve_with_mail
from tests.test_web_admin_breaches import Clock  # 10:00 on 1 Dec 2026 until moved
from tests.web_helpers import open_test_ticket

database_url = test_browser.database_url
browser = test_browser.browser
page = test_browser.page
base = test_browser.base

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]

UTC = dt.UTC
PASSWORD = "correct horse battery staple"
CLIENT_ID, CLIENT_SECRET = "Iv1.tinydeskbrowser", "oauth-client-secret-for-browser-tests"


async def set_password(page, link: str) -> None:
    """Open an invitation link, choose the password, land in the inbox."""
    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.click("button:has-text('Set password')")
    await page.wait_for_selector("h1:has-text('Inbox')")


async def new_page(browser):
    """A fresh browser context (no cookies) and its page."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    return context, await context.new_page()


async def session_cookies(page) -> list[dict]:
    return [c for c in await page.context.cookies() if c["name"] == sessions.COOKIE]


# --------------------------------------------------------------------------- 1. GitHub


@pytest.fixture
async def github():
    fake = await start_fake()
    fake.add_oauth_client(CLIENT_ID, CLIENT_SECRET)
    yield fake
    await fake.close()


@pytest.fixture
async def github_base(aiohttp_server, db, github) -> str:
    """TinyDesk with the App's OAuth client, GitHub being the fake (its pages and API)."""
    return await serve(
        aiohttp_server,
        db,
        github_api_url=github.base_url,
        github_client_id=CLIENT_ID,
        github_client_secret=CLIENT_SECRET,
    )


async def invite_github(base_url: str, login: str) -> None:
    """An agent account an admin named by its GitHub login (no password ever set)."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/admin/staff",
            json={"email": "ada@support.test", "name": "Ada", "role": "agent", "github": login},
            headers=ADMIN_HEADERS,
        ) as resp,
    ):
        assert resp.status == 201, await resp.text()


async def test_sign_in_with_github_goes_through_github_and_lands_in_the_inbox(
    github_base, github, db, page
):
    """The button on /desk/sign-in leaves for GitHub's authorize page, comes back to the
    callback and ends in the inbox signed in as the account named by that GitHub login,
    which is now linked to the GitHub user id."""
    await invite_github(github_base, "ada-gh")
    github.sign_in_as("ada-gh", 4242, "Ada L.")
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    await page.goto(f"{github_base}/desk/sign-in")
    assert await session_cookies(page) == []
    await page.click("a:has-text('Sign in with GitHub')")
    await page.wait_for_selector("h1:has-text('Inbox')")
    assert await page.evaluate("location.pathname") == "/desk"
    assert await page.locator("text=Signed in as Ada (agent).").is_visible()
    # The browser itself went to the fake GitHub's authorize page and back to the callback.
    assert any(url.startswith(f"{github.base_url}/login/oauth/authorize?") for url in seen)
    assert any("/desk/sign-in/github/callback?code=" in url for url in seen)
    assert len(await session_cookies(page)) == 1
    async with db.session() as session:
        account = await session.scalar(select(StaffAccount))
        assert account is not None
        assert (account.github_id, account.github_login) == (4242, "ada-gh")
        assert len((await session.scalars(select(StaffSession))).all()) == 1
    # The session is a real one: another workspace page opens without signing in.
    await page.goto(f"{github_base}/desk/breaches")
    assert await page.locator("h1:has-text('SLA breaches')").is_visible()


async def test_a_github_user_without_an_account_is_refused_and_gets_no_session(
    github_base, github, db, page
):
    """A GitHub user nobody invited comes back from GitHub to a 403 page naming their login
    and saying what to do; no session is started and the inbox still asks to sign in."""
    await invite_github(github_base, "ada-gh")
    github.sign_in_as("mallory", 666)
    await page.goto(f"{github_base}/desk/sign-in")
    async with page.expect_response(lambda r: "/desk/sign-in/github/callback" in r.url) as back:
        await page.click("a:has-text('Sign in with GitHub')")
    assert (await back.value).status == 403
    await page.wait_for_selector("h1:has-text('Not allowed')")
    message = await page.inner_text("main")
    assert "No staff account is linked to the GitHub user @mallory" in message
    assert "Ask an admin to add your GitHub login" in message
    assert await page.locator("text=Signed in as").count() == 0
    assert await session_cookies(page) == []
    async with db.session() as session:
        assert (await session.scalars(select(StaffSession))).all() == []
        account = await session.scalar(select(StaffAccount))
        assert account is not None and account.github_id is None  # not linked to mallory
    await page.goto(f"{github_base}/desk")
    await page.wait_for_selector("h1:has-text('Sign in')")
    assert await page.evaluate("location.pathname") == "/desk/sign-in"


# --------------------------------------------------------------------------- 2. mail out


async def answer(page, base_url: str, public_id: str, *, reply: str, note: str) -> None:
    """On the ticket's workspace page: an internal note, then a reply to the requester."""
    await page.goto(f"{base_url}/desk/tickets/{public_id}")
    await page.fill("#note", note)
    await page.click("button:has-text('Add note')")
    await page.wait_for_selector("text=Note added.")
    await page.fill("#reply", reply)
    await page.click("button:has-text('Send reply')")
    await page.wait_for_selector("text=Reply sent.")
    assert await page.locator(".comment.internal .comment-body").all_inner_texts() == [note]
    assert await page.locator(".comment:not(.internal) .comment-body").all_inner_texts() == [reply]


async def test_an_agents_reply_is_mailed_to_the_submitter_and_the_note_is_not(
    aiohttp_server, db, page
):
    """A reply typed on the ticket page reaches the submitter's mailbox (a real SMTP server)
    with its text; the internal note added just before it is in no message."""
    reply = "We found the cause: the export timed out. Fixed now."
    note = "Staff only: refund them quietly, ticket 7731 in billing."
    async with MailSink() as sink:
        app, base_url = await serve_with_mail(aiohttp_server, db, sink)
        await register_product(base_url)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{base_url}/api/tickets",
                json={
                    "productSlug": "my-saas-app",
                    "submitterEmail": "ada@example.com",
                    "subject": "Export is empty",
                    "body": "The CSV has no rows.",
                },
            ) as resp,
        ):
            assert resp.status == 201, await resp.text()
            public_id = (await resp.json())["publicId"]
        await app[WORKERS].drain()
        receipts = len(to_submitter(sink))
        assert receipts == 1  # "we've received your ticket": the submitter gets updates

        await set_password(page, await invite(base_url, "sam@support.test", "Sam", "agent"))
        await page.goto(f"{base_url}/desk/tickets/{public_id}")
        assert "and get it by email" in await page.inner_text("label[for=reply]")
        await answer(page, base_url, public_id, reply=reply, note=note)
        await app[WORKERS].drain()

        def the_reply(message) -> bool:
            return message["To"] == "ada@example.com" and reply in text_of(message)

        message = await sink.wait_for(the_reply)
        # The reply is the one new message to the submitter: the note mailed nothing.
        assert to_submitter(sink)[receipts:] == [message]
        assert public_id in message["Subject"]
        for item in sink.received:
            assert note not in item.raw.decode("utf-8", "replace")
            assert note not in text_of(item.message)


def to_submitter(sink: MailSink) -> list:
    return [m for m in sink.messages if m["To"] == "ada@example.com"]


def text_of(message) -> str:
    """Every text part of a message, decoded (plain and HTML)."""
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
    )


# --------------------------------------------------------------------------- 3. tracking


async def test_an_internal_note_is_never_on_the_public_tracking_page_or_its_json(
    base, db, browser, page
):
    """Staff add a reply and an internal note in the browser; the submitter's tracking page
    (their token link, a browser without staff cookies) and the tracking JSON carry the reply
    and nowhere the note's text."""
    reply = "A fix is on its way to production."
    note = "Internal: this customer is on the legacy plan, do not promise dates."
    await register_product(base)
    public_id, token = await open_test_ticket(db, subject="Search returns nothing")
    await set_password(page, await invite(base, "sam@support.test", "Sam", "agent"))
    await answer(page, base, public_id, reply=reply, note=note)

    context, outsider = await new_page(browser)
    try:
        assert await context.cookies() == []
        await outsider.goto(f"{base}/track/{public_id}?token={token}")
        await outsider.wait_for_selector("#comments")
        assert reply in await outsider.inner_text("#comments")
        assert await outsider.locator("text=Signed in as").count() == 0
        html = await outsider.content()
        assert reply in html and note not in html
        assert "legacy plan" not in html
        for url in (
            f"/api/tickets/{public_id}?token={token}",
            f"/api/tickets/{public_id}",
        ):
            answered = await outsider.evaluate(
                """async url => {
                    const r = await fetch(url, {headers: {Accept: "application/json"}});
                    return {status: r.status, text: await r.text()};
                }""",
                url,
            )
            assert answered["status"] == 200, answered
            assert note not in answered["text"] and "legacy plan" not in answered["text"]
        # With the token, the JSON has the conversation (so the note could have been there).
        with_token = await outsider.evaluate(
            "async url => (await fetch(url)).json()", f"/api/tickets/{public_id}?token={token}"
        )
        assert reply in str(with_token)
    finally:
        await context.close()


# --------------------------------------------------------------------------- 4. breaches


async def test_the_breaches_page_follows_the_apps_clock(aiohttp_server, db, page):
    """On an injected clock: a "Gold" policy promises a high-priority answer in 45 minutes;
    the ticket opened at 10:00 is listed from the nav's Breaches link at 11:00 (overdue by
    15 min; the one opened at 10:50 is not). With the clock moved back to 10:30 and the page
    reloaded it is gone, and "due within 30m" lists it with 15 minutes left."""
    clock = Clock()
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = clock
    server = await aiohttp_server(app)
    base_url = f"http://127.0.0.1:{server.port}"
    await register_product(base_url)
    async with aiohttp.ClientSession(base_url=base_url, headers=ADMIN_HEADERS) as http:
        policy = {"name": "Gold", "targets": {"high": {"response": 45, "resolution": 600}}}
        async with http.post("/api/admin/sla/policies", json=policy) as resp:
            assert resp.status == 201, await resp.text()
        async with http.patch(
            "/api/admin/products/my-saas-app", json={"slaPolicy": "Gold"}
        ) as resp:
            assert resp.status == 200, await resp.text()

    async with aiohttp.ClientSession(base_url=base_url) as http:
        key = await make_key(http)

        async def ticket(subject: str) -> str:
            body = {
                "subject": subject,
                "body": "b",
                "email": "cy@example.com",
                "priority": "high",
                "productSlug": "my-saas-app",
            }
            async with http.post("/api/v1/desk/tickets", json=body, headers=bearer(key)) as resp:
                assert resp.status == 201, await resp.text()
                return (await resp.json())["publicId"]

        late = await ticket("Late answer")  # 10:00: response due 10:45
        clock.at = dt.datetime(2026, 12, 1, 10, 50, tzinfo=UTC)
        on_time = await ticket("Still on time")  # response due 11:35
    clock.at = dt.datetime(2026, 12, 1, 11, 0, tzinfo=UTC)

    await set_password(page, await invite(base_url, "sam@support.test", "Sam", "agent"))
    await page.click("nav a:has-text('Breaches')")
    await page.wait_for_selector("h1:has-text('SLA breaches')")
    assert await page.evaluate("location.pathname") == "/desk/breaches"
    rows = page.locator("tbody tr")
    assert await rows.count() == 1
    cells = await rows.first.locator("td, th").all_inner_texts()
    assert cells[0] == late and cells[1] == "Late answer"
    assert "Response" in cells and "overdue by 15 min" in cells and "Gold" in cells
    assert await page.locator(f"a:has-text('{on_time}')").count() == 0

    clock.at = dt.datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    await page.reload()
    await page.wait_for_selector("h1:has-text('SLA breaches')")
    assert await page.locator(f"a:has-text('{late}')").count() == 0
    assert await page.locator("text=No ticket is in breach.").is_visible()

    await page.fill("#dueWithin", "30m")
    await page.click("form.filters button:has-text('Show')")
    await page.wait_for_selector("h1:has-text('About to breach')")
    cells = await page.locator("tbody tr").first.locator("td, th").all_inner_texts()
    assert cells[0] == late and "15 min left" in cells
    assert await page.locator("tbody tr").count() == 1
    # The row links to the ticket's workspace page.
    await page.click(f"tbody a:has-text('{late}')")
    await page.wait_for_selector("h1:has-text('Late answer')")


# --------------------------------------------------------------------------- 5. viewer


FORGE_EDIT = """async ({url, fields}) => {
    // The token of a form the signed-in person was given (the sign-out form, for a viewer).
    const token = document.querySelector("form[action='/desk/sign-out'] [name=csrf_token]");
    const body = new URLSearchParams({...fields, csrf_token: token.value});
    const r = await fetch(url, {method: "POST", body, redirect: "follow"});
    return {status: r.status, url: r.url, text: await r.text()};
}"""
CHANGES = {"status": "pending", "priority": "urgent", "assignee": "vi@support.test"}


async def stored_ticket(db, public_id: str) -> tuple[str, str, str | None]:
    async with db.session() as session:
        ticket = await session.get(Ticket, ids.parse_public_id(public_id))
        assert ticket is not None
        return ticket.status, ticket.priority, ticket.assignee


async def test_a_viewer_sees_no_edit_forms_and_a_forged_edit_is_refused(base, db, browser, page):
    """A viewer's ticket page has no form that writes; an edit they forge from the page
    (fetch, with the session's real CSRF token) is a 403 naming the role, and the ticket is
    unchanged. The same forged request from an agent's page does change it, so the refusal
    is the role's, not a broken request's."""
    await register_product(base)
    public_id, _ = await open_test_ticket(db, subject="Printer on fire")
    before = await stored_ticket(db, public_id)
    assert before[0] != "pending" and before[1] != "urgent" and before[2] is None

    await set_password(page, await invite(base, "vi@support.test", "Vi", "viewer"))
    await page.goto(f"{base}/desk/tickets/{public_id}")
    await page.wait_for_selector("h1:has-text('Printer on fire')")
    assert await page.locator("text=Signed in as Vi (viewer).").is_visible()
    writing = "main form[method=post]:not([action^='/desk/sign-out'])"
    assert await page.locator(writing).count() == 0
    for field in ("#reply", "#note", "#assignee", "#status", "#priority", "#tags"):
        assert await page.locator(field).count() == 0, field
    url = f"/desk/tickets/{public_id}/edit"
    forged = await page.evaluate(FORGE_EDIT, {"url": url, "fields": CHANGES})
    assert forged["status"] == 403, forged["status"]
    assert "A viewer may not do this." in forged["text"]
    assert await stored_ticket(db, public_id) == before

    context, agent = await new_page(browser)
    try:
        await set_password(agent, await invite(base, "ag@support.test", "Ag", "agent"))
        await agent.goto(f"{base}/desk/tickets/{public_id}")
        assert await agent.locator(f"main form[action='{url}']").count() == 1
        done = await agent.evaluate(FORGE_EDIT, {"url": url, "fields": CHANGES})
        assert done["status"] == 200 and "notice=saved" in done["url"], done["url"]
    finally:
        await context.close()
    assert await stored_ticket(db, public_id) == ("pending", "urgent", "vi@support.test")
