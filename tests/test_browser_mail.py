""" "Email me updates" on the tracking page in a real browser (Chromium, tests/test_browser.py's
fixtures): a ticket submitted without mail offers it, the click subscribes the submitter's
address, and the next staff comment reaches a real SMTP sink."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest

from bot.app import create_app
from bot.config import MailSettings, Settings
from bot.jobs.worker import WORKERS
from tests import test_browser
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.mail_sink import MailSink
from tests.test_browser import CHROMIUM, register_product

database_url = test_browser.database_url
browser = test_browser.browser
page = test_browser.page

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]


async def serve_with_mail(aiohttp_server, db, sink: MailSink):
    """TinyDesk in-process with mail out to ``sink`` (workers off: the test drains them);
    the app, for ``app[WORKERS].drain()``, and its base URL."""
    mail = MailSettings(mail_from="support@example.com", smtp_url=sink.url, coalesce_seconds=0.0)
    settings = dataclasses.replace(Settings(admin_token=ADMIN_TOKEN, run_workers=False), mail=mail)
    app = create_app(settings, db=db)
    server = await aiohttp_server(app)
    return app, f"http://127.0.0.1:{server.port}"


async def test_email_me_updates_subscribes_the_submitter_and_the_next_step_is_mailed(
    aiohttp_server, db, page
):
    async with MailSink() as sink:
        app, base = await serve_with_mail(aiohttp_server, db, sink)
        await register_product(base)
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{base}/api/tickets",
                json={
                    "productSlug": "my-saas-app",
                    "submitterEmail": "ada@example.com",
                    "subject": "Export is empty",
                    "body": "The CSV has no rows.",
                    "emailUpdates": False,
                },
            ) as resp:
                assert resp.status == 201
                receipt = await resp.json()
            async with http.post(
                f"{base}/api/admin/keys", json={"name": "dana"}, headers=ADMIN_HEADERS
            ) as resp:
                key = (await resp.json())["key"]
        await app[WORKERS].drain()
        assert sink.messages == []

        await page.goto(receipt["trackingUrl"])
        await page.click("button:has-text('Email me updates')")
        await page.wait_for_selector("#email-updates-on")
        assert await page.locator("button:has-text('Email me updates')").count() == 0

        async with aiohttp.ClientSession() as http:
            async with http.get(
                f"{base}/api/v1/desk/tickets?q={receipt['publicId']}",
                headers={"Authorization": f"Bearer {key}"},
            ) as resp:
                [ticket] = (await resp.json())["tickets"]
            async with http.post(
                f"{base}/api/v1/desk/tickets/{ticket['id']}/comments",
                json={"body": "Fixed in the next release."},
                headers={"Authorization": f"Bearer {key}"},
            ) as resp:
                assert resp.status == 201
        await app[WORKERS].drain()
        [message] = sink.messages
        assert message["To"] == "ada@example.com"
        assert "Fixed in the next release." in message.get_body(("plain",)).get_content()
