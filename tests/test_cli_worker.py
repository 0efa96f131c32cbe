"""``tinydesk worker`` works the queues in a process of its own (issue 20): a web process with
``TINYDESK_WORKERS=false`` only receives and stores; the worker opens the GitHub issue of a
new ticket, applies a signed delivery the web process stored to the ticket's stage, and
stops cleanly on SIGTERM. Real processes, a real database on each backend, the fake GitHub."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time

import aiohttp
import pytest

from bot.sim.events import Payloads
from bot.sim.fakegithub import FakeGitHub
from bot.sim.stack import ServerProcess, github_env
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.payloads import delivery_headers

SECRET = "worker-test-webhook-secret"
OWNER, REPO, INSTALLATION = "octo-org", "app", 4242
WORKER_ARGV = [sys.executable, "-m", "bot.cli", "worker"]


async def until(check, what: str, limit: float = 20.0):
    deadline = time.monotonic() + limit
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_a_worker_process_does_the_work_the_web_process_stores(
    database_url, tmp_path, fake_github: FakeGitHub
):
    fake_github.add_installation(INSTALLATION, OWNER, [f"{OWNER}/{REPO}"])
    env = {
        "DATABASE_URL": database_url,
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TINYDESK_PUBLIC_CREATE_RATE_LIMIT": "0",
        **github_env(fake_github, SECRET),
    }
    web = ServerProcess({**env, "TINYDESK_WORKERS": "false"}, tmp_path / "web.log")
    worker = None
    try:
        await asyncio.to_thread(web.wait_ready)
        async with aiohttp.ClientSession(base_url=web.url) as http:
            resp = await http.post(
                "/api/admin/products",
                json={"slug": "app", "repo": f"{OWNER}/{REPO}"},
                headers=ADMIN_HEADERS,
            )
            assert resp.status == 201, await resp.text()
            resp = await http.post(
                "/api/tickets",
                json={
                    "productSlug": "app",
                    "submitterEmail": "ada@example.com",
                    "subject": "Export fails",
                    "body": "CSV export answers 500.",
                },
            )
            ticket = await resp.json()

            async def stage() -> str:
                async with http.get(f"/api/tickets/{ticket['publicId']}") as resp:
                    return (await resp.json())["status"]

            # Without a worker the web process opens no issue.
            await asyncio.sleep(1.5)
            assert fake_github.issues(OWNER, REPO) == [] and await stage() == "RECEIVED"

            worker = ServerProcess(env, tmp_path / "worker.log", argv=WORKER_ARGV)
            await until(lambda: _is(stage, "ISSUE_CREATED"), "the worker to open the issue")
            [issue] = fake_github.issues(OWNER, REPO)

            event, payload = Payloads(OWNER, REPO, INSTALLATION).issues_assigned(
                issue["number"], issue["title"], "dev"
            )
            body = json.dumps(payload).encode()
            resp = await http.post(
                "/webhooks/github", data=body, headers=delivery_headers(event, body, SECRET)
            )
            assert resp.status == 202 and (await resp.json())["status"] == "queued"
            await until(lambda: _is(stage, "FIX_IN_PROGRESS"), "the worker to apply it")
    finally:
        if worker is not None:
            worker.process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(worker.process.wait, 15)
            worker.stop()
            log = worker.log()
            assert code == 0, log[-3000:]
            assert "TinyDesk worker stopped" in log and "Traceback" not in log
        web.stop()
    assert "workers are off in this process" in web.log()


async def _is(stage, expected: str) -> bool:
    return await stage() == expected
