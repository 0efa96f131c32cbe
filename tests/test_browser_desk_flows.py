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

from bot.sim.stack import start_fake
from bot.staff import sessions
from storage.models import StaffAccount, StaffSession
from tests import test_browser
from tests.conftest import ADMIN_HEADERS
from tests.test_browser import CHROMIUM, WAIT_MS, serve

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
