"""From a server with no GitHub App to a registered, installed App, in a real browser: a real
``tinydesk serve`` process and the fake GitHub, driven by headless Chromium (Playwright, the
system's ``chromium``; see tests/test_browser.py). Issue 14, item 1."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import aiohttp
import pytest

from bot.sim.fakegithub import FakeGitHub
from bot.sim.stack import ServerProcess
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.test_browser import CHROMIUM, browser, page, sign_in  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]

OWNER, REPO = "octo-org", "my-saas-app"


async def eventually(check, server: ServerProcess, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = await check()
            if found:
                return found
        except aiohttp.ClientError:
            pass  # the application is being rebuilt with the App
        assert time.monotonic() < deadline, server.log()[-3000:]
        await asyncio.sleep(0.1)


@pytest.fixture
def database_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "tinydesk.db"
    shutil.copy(sqlite_template, path)
    return path


async def test_an_admin_registers_and_installs_the_app_and_it_works_without_a_restart(
    fake_github: FakeGitHub,
    page,  # noqa: F811  (the fixture of tests/test_browser.py)
    tmp_path: Path,
    database_file: Path,
):
    """Sign in, open /admin/setup, register for an organization: the page takes the manifest
    to (the fake) GitHub, "Create GitHub App" brings the browser back to the callback page,
    whose install link leads to GitHub's installation page; "Install" makes GitHub deliver
    the signed ``installation`` webhook, and a ticket submitted then gets its GitHub issue,
    opened by the new App, from the same server process."""
    fake_github.add_repo(f"{OWNER}/{REPO}")
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{database_file}",
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "GITHUB_API_URL": fake_github.base_url,
        "GITHUB_APP_ID": "",
        "GITHUB_PRIVATE_KEY": "",
        "GITHUB_WEBHOOK_SECRET": "",
        "TINYDESK_PUBLIC_URL": "",
    }
    with ServerProcess(env, tmp_path / "serve.log") as server:
        server.wait_ready()
        pid = server.process.pid
        async with aiohttp.ClientSession(base_url=server.url) as http:
            async with http.post(
                "/api/admin/products",
                json={"slug": REPO, "repo": f"{OWNER}/{REPO}"},
                headers=ADMIN_HEADERS,
            ) as resp:
                assert resp.status == 201

            await sign_in(page, server.url, "/admin/setup")
            await page.wait_for_selector("h1:has-text('GitHub App')")
            await page.check("#account-organization")
            await page.fill("#organization", OWNER)
            await page.click("button:has-text('Register on GitHub')")
            # The register page submits itself to GitHub's new-App page.
            await page.wait_for_selector("button:has-text('Create GitHub App')")
            assert page.url.startswith(f"{fake_github.base_url}/organizations/{OWNER}/")
            await page.click("button:has-text('Create GitHub App')")
            await page.wait_for_selector("h1:has-text('GitHub App registered')")
            assert page.url.startswith(f"{server.url}/admin/setup/callback?code=")
            app = fake_github.registered_app("tinydesk")
            assert app.owner == OWNER
            assert str(app.id) in await page.inner_text("main")

            await page.click("#install-link")
            await page.wait_for_selector("button:has-text('Install')")
            assert page.url == f"{fake_github.base_url}/apps/tinydesk/installations/new"
            await page.click("button:has-text('Install')")
            await page.wait_for_selector("#installed")
            [delivery] = fake_github.deliveries
            assert (delivery.event, delivery.action, delivery.status) == (
                "installation",
                "created",
                202,
            )
            assert delivery.url == f"{server.url}/webhooks/github"

            async def installed():
                async with http.get("/api/admin/products", headers=ADMIN_HEADERS) as resp:
                    return (await resp.json())["products"][0]["appInstalled"]

            await eventually(installed, server)
            ticket = {
                "productSlug": REPO,
                "submitterEmail": "agent@example.com",
                "subject": "Login button unresponsive on Safari",
                "body": "1. Open Safari 17\n2. Click Sign In",
            }
            async with http.post("/api/tickets", json=ticket) as resp:
                assert resp.status == 201
                public_id = (await resp.json())["publicId"]

            async def issue_created():
                async with http.get(f"/api/tickets/{public_id}") as resp:
                    return (await resp.json())["status"] == "ISSUE_CREATED"

            await eventually(issue_created, server)
            [issue] = fake_github.issues(OWNER, REPO)
            assert issue["title"] == ticket["subject"]

            # The admin page now shows the App (on SQLite the sessions lived in the memory
            # of the application before the App, so the admin may have to sign in again).
            await page.goto(f"{server.url}/admin/setup")
            if await page.locator("#admin-token").count():
                await page.fill("#admin-token", ADMIN_TOKEN)
                await page.click("button:has-text('Sign in')")
            await page.wait_for_selector(".badge.ok")
            status = await page.inner_text("main")
            assert "Configured" in status and str(app.id) in status
        assert server.process.pid == pid and server.process.poll() is None
        assert app.webhook_secret not in server.log()
