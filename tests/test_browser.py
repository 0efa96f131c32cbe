"""The pages in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

No browser is downloaded: Playwright launches the system Chromium (``executable_path``).
Each test starts TinyDesk in-process on a real loopback port (``aiohttp_server``) and
opens it in a fresh browser; every wait has a timeout. Skipped when Chromium or Playwright
is missing (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import create_app
from bot.config import Settings
from bot.sim.events import Payloads
from bot.sim.fakegithub import FakeGitHub
from bot.sim.stack import github_settings
from storage.database import Database
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.payloads import delivery_headers
from tests.web_helpers import add_comment, open_test_ticket

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = next(
    (
        path
        for path in ("/usr/bin/chromium", shutil.which("chromium") or "")
        if path and Path(path).exists()
    ),
    None,
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]

WAIT_MS = 10_000  # every Playwright wait: ten seconds at most
WEBHOOK_SECRET = "browser-test-webhook-secret"
OWNER, REPO = "octo-org", "my-saas-app"
INSTALLATION_ID = 1001


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the pages are the same on either database (the API tests cover both),
    and a browser per test is slow enough once."""
    path = tmp_path / "tinydesk.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def browser() -> AsyncIterator:
    async with playwright_api.async_playwright() as playwright:
        chromium = await asyncio.wait_for(
            playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS), 60
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser) -> AsyncIterator:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def serve(aiohttp_server, db: Database, **settings) -> str:
    values = {"admin_token": ADMIN_TOKEN, "run_workers": False, **settings}
    server = await aiohttp_server(create_app(Settings(**values), db=db))
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
async def base(aiohttp_server, db) -> str:
    return await serve(aiohttp_server, db)


async def register_product(base_url: str, slug: str = "my-saas-app") -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/admin/products",
            json={"slug": slug, "repo": f"{OWNER}/{slug}"},
            headers=ADMIN_HEADERS,
        ) as resp,
    ):
        assert resp.status == 201, await resp.text()


async def sign_in(page, base_url: str, next_path: str = "/admin") -> None:
    await page.goto(f"{base_url}{next_path}")
    await page.fill("#admin-token", ADMIN_TOKEN)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_selector(".admin-bar")


def current_stage(page):
    return page.locator('li.step.is-current[aria-current="step"]')


# --------------------------------------------------------------------------- tracking page


async def test_the_stepper_advances_live_while_signed_webhooks_arrive(
    aiohttp_server, db, fake_github: FakeGitHub, page
):
    fake_github.add_installation(INSTALLATION_ID, OWNER, [f"{OWNER}/{REPO}"])
    base_url = await serve(
        aiohttp_server,
        db,
        # The page polls every second (and backs off to a minute while nothing changes).
        **github_settings(fake_github, WEBHOOK_SECRET, run_workers=True, tracking_poll_seconds=1),
    )
    await register_product(base_url)
    async with aiohttp.ClientSession(base_url=base_url) as http:
        async with http.post(
            "/api/tickets",
            json={
                "productSlug": "my-saas-app",
                "submitterEmail": "ada@example.com",
                "subject": "Sign-in button does nothing on Safari",
                "body": "Click Sign in; nothing happens.",
            },
        ) as resp:
            ticket = await resp.json()
        public_id = ticket["publicId"]

        async def stage() -> str:
            async with http.get(f"/api/tickets/{public_id}") as resp:
                return (await resp.json())["status"]

        deadline = time.monotonic() + 15
        while await stage() != "ISSUE_CREATED":
            assert time.monotonic() < deadline, "the bot did not open the issue"
            await asyncio.sleep(0.1)
        [issue] = fake_github.issues(OWNER, REPO)
        n = issue["number"]

        await page.goto(ticket["trackingUrl"].replace("https://desk.example.test", base_url))
        await page.wait_for_selector('main[data-live="on"]')
        assert await current_stage(page).get_attribute("data-stage") == "ISSUE_CREATED"
        await page.evaluate("window.sameDocument = true")

        payloads = Payloads(OWNER, REPO, INSTALLATION_ID)
        pr = fake_github.add_pull(OWNER, REPO, head_sha="c" * 40, body=f"Fixes #{n}")
        fields = {"number": pr, "body": f"Fixes #{n}", "head_sha": "c" * 40, "author": "dev"}
        steps = [
            (payloads.issues_assigned(n, issue["title"], "dev"), "FIX_IN_PROGRESS"),
            (payloads.pull_request_event("opened", "dev", **fields), "PR_OPEN"),
            (payloads.review_submitted("changes_requested", "rev", **fields), "CHANGES_REQUESTED"),
            (payloads.review_submitted("approved", "rev", **fields), "PR_OPEN"),
        ]
        for (event, payload), expected in steps:
            body = json.dumps(payload).encode()
            headers = delivery_headers(event, body, WEBHOOK_SECRET)
            async with http.post("/webhooks/github", data=body, headers=headers) as resp:
                assert resp.status == 202
            await page.wait_for_selector(
                f'li.step.is-current[aria-current="step"][data-stage="{expected}"]'
            )
            assert await page.locator('[aria-current="step"]').count() == 1

    # The page never reloaded: the same document redrew itself from the JSON API.
    assert await page.evaluate("window.sameDocument") is True
    assert await page.inner_text("#current-stage") == "Pull request open"
    assert "the ticket is now at Pull request open" in await page.inner_text("#live-status")
    history = page.locator("#history li")
    assert "Pull request #2 approved" in await history.first.inner_text()
    assert await history.count() == 6
    reached = page.locator("li.step.is-reached:not(.step-loop)")
    assert [await s.get_attribute("data-stage") for s in await reached.all()] == [
        "RECEIVED",
        "ISSUE_CREATED",
        "FIX_IN_PROGRESS",
    ]
    # The round of changes stays on the review step as a loop, redrawn by track.js, never "Done".
    loop = page.locator('li.step.is-reached.step-loop[data-stage="CHANGES_REQUESTED"]')
    assert await loop.locator(".step-state").inner_text() == "↺ 1 round"


async def test_the_subject_and_messages_need_the_token(base, db, page):
    await register_product(base)
    public_id, token = await open_test_ticket(db, subject="Crash when <saving>")
    await add_comment(db, public_id, "We are on it.")
    await add_comment(db, public_id, "Internal: customer is VIP", internal=True)

    await page.goto(f"{base}/track/{public_id}?token={token}")
    assert await page.inner_text(".subject") == "Crash when <saving>"
    assert "We are on it." in await page.inner_text("#comments")
    assert "VIP" not in await page.content()

    await page.goto(f"{base}/track/{public_id}")
    assert await page.locator(".subject").count() == 0
    assert await page.locator("#comments").count() == 0
    assert await current_stage(page).get_attribute("data-stage") == "RECEIVED"

    await page.goto(f"{base}/track/{public_id}?token=not-the-token")
    assert await page.locator(".subject").count() == 0
    assert "token is not valid" in await page.inner_text(".notice")


async def test_an_unknown_ticket_gets_the_404_page_and_the_lookup_form(base, page):
    response = await page.goto(f"{base}/track/TK-99999")
    assert response.status == 404
    assert "find that ticket" in await page.inner_text("h1")
    await page.fill("#public-id", "tk-123")
    await page.click("button:has-text('Track')")
    await page.wait_for_selector("#public-id-error")
    assert "There is no ticket TK-00123." in await page.inner_text("#public-id-error")


async def test_without_javascript_the_server_rendered_page_is_complete(base, db, browser):
    await register_product(base)
    public_id, token = await open_test_ticket(db, subject="No JS here")
    context = await browser.new_context(java_script_enabled=False)
    context.set_default_timeout(WAIT_MS)
    try:
        page = await context.new_page()
        await page.goto(f"{base}/track/{public_id}?token={token}")
        assert await page.get_attribute("main", "data-live") is None
        assert await page.inner_text(".subject") == "No JS here"
        assert await page.inner_text("#live-note") == (
            "Times are in UTC. Use Refresh to see the newest stage."
        )
        assert await current_stage(page).get_attribute("data-stage") == "RECEIVED"
    finally:
        await context.close()


# --------------------------------------------------------------------------- admin pages


async def test_admin_sign_in_refuses_a_wrong_token_then_lets_the_admin_in(base, page):
    await page.goto(f"{base}/admin/products")
    assert page.url.startswith(f"{base}/admin/sign-in?next=")
    await page.fill("#admin-token", "not-the-token")
    await page.click("button:has-text('Sign in')")
    await page.wait_for_selector("#token-error")
    assert await page.inner_text("#token-error") == "That is not the admin token."
    await page.fill("#admin-token", ADMIN_TOKEN)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_selector("h1:has-text('Products')")
    assert page.url == f"{base}/admin/products"
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["tinydesk_admin"]["httpOnly"] is True
    assert cookies["tinydesk_admin"]["sameSite"] == "Strict"


async def test_an_admin_registers_a_product_with_the_form(base, page):
    await sign_in(page, base, "/admin/products")
    await page.fill("#slug", "my-saas-app")
    await page.fill("#repo", "octo-org/my-saas-app")
    await page.fill("#name", "My SaaS App")
    await page.click("button:has-text('Register product')")
    await page.wait_for_selector(".notice")
    assert await page.inner_text(".notice") == "Product my-saas-app registered."
    row = page.locator("tbody tr", has_text="my-saas-app")
    assert "octo-org/my-saas-app" in await row.inner_text()
    assert "Not installed" in await row.inner_text()

    await page.fill("#slug", "Bad Slug!")
    await page.fill("#repo", "not-a-repo")
    await page.click("button:has-text('Register product')")
    await page.wait_for_selector("#slug-error")
    assert await page.get_attribute("#repo", "aria-invalid") == "true"


async def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(base, page):
    await register_product(base)
    await sign_in(page, base, "/admin/api-keys")
    await page.fill("#name", "Zendesk bridge")
    await page.check("#product-my-saas-app")
    await page.click("button:has-text('Create key')")
    await page.wait_for_selector("#new-key")
    secret = await page.input_value("#new-key")
    assert re.fullmatch(r"td_live_[0-9A-Za-z]{38}", secret)
    assert "shown only this once" in await page.inner_text(".new-key")

    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{base}/api/v1/desk/tickets", headers={"Authorization": f"Bearer {secret}"}
        ) as resp,
    ):
        assert resp.status == 200

    await page.goto(f"{base}/admin/api-keys")
    assert secret not in await page.content()
    row = page.locator("tbody tr", has_text="Zendesk bridge")
    assert "my-saas-app" in await row.inner_text() and "Active" in await row.inner_text()
    await row.locator("button:has-text('Revoke')").click()
    await page.wait_for_selector(".notice:has-text('revoked')")
    assert "Revoked" in await page.locator("tbody tr", has_text="Zendesk bridge").inner_text()

    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{base}/api/v1/desk/tickets", headers={"Authorization": f"Bearer {secret}"}
        ) as resp,
    ):
        assert resp.status == 401


async def test_a_forged_post_without_the_csrf_token_is_rejected(base, page):
    await sign_in(page, base, "/admin/products")
    # A form that looks like the real one but lacks the session's CSRF token, as a forging
    # page would send it; the browser still attaches the session cookie here.
    forged = """() => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/admin/products";
        for (const [name, value] of [["slug", "forged"], ["repo", "evil/forged"]]) {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = name; input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
    }"""
    async with page.expect_navigation() as navigation:
        await page.evaluate(forged)
    response = await navigation.value
    assert response.status == 403
    assert "That form has expired" in await page.inner_text("h1")
    await page.goto(f"{base}/admin/products")
    assert "No products yet." in await page.inner_text("main")
