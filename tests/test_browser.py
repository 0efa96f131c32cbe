"""The tracking page in a real browser: headless Chromium against a server started by the test.

Skipped when Chromium is not installed. ``--dump-dom`` prints the DOM after the page has run;
``--virtual-time-budget`` fast-forwards the page's timers, so track.js polls within the run
without the test waiting for real seconds.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from tests.conftest import ADMIN_HEADERS
from tests.web_helpers import move_ticket, open_test_ticket

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
    pytest.mark.slow,
]

BROWSER_TIMEOUT = 45
STEP = re.compile(r'<li class="step is-(\w+)" data-stage="(\w+)"( aria-current="step")?>')


async def dump_dom(url: str, profile: Path) -> str:
    """The page's DOM after it has loaded and run its timers for a (virtual) 20 seconds."""
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        "--dump-dom",
    ]
    proc = await asyncio.create_subprocess_exec(
        *args, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), BROWSER_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return out.decode()


def current_steps(dom: str) -> list[str]:
    return [stage for state, stage, current in STEP.findall(dom) if state == "current" and current]


@web.middleware
async def without_track_js(request: web.Request, handler):
    """As if the browser ran no JavaScript (headless Chromium's --dump-dom needs it on)."""
    if request.path.endswith(".js"):
        raise web.HTTPNotFound()
    return await handler(request)


async def serve(aiohttp_server, db, *, after_page=None, javascript: bool = True):
    app = create_app(Settings(admin_token="browser-test-admin-token"), db=db)
    if after_page is not None:
        app.on_response_prepare.append(after_page)
    if not javascript:
        app.middlewares.append(without_track_js)
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
async def ticket(db, make_client) -> tuple[str, str]:
    client = await make_client()
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201
    return await open_test_ticket(db, subject="Crash when <saving>")


async def test_with_javascript_the_page_follows_a_stage_change_by_itself(
    aiohttp_server, db, ticket, tmp_path
):
    public_id, token = ticket
    moved = asyncio.Event()

    async def move_after_the_page_is_rendered(request: web.Request, _response) -> None:
        # The HTML is already rendered at RECEIVED; only track.js can show the move.
        if request.path == f"/track/{public_id}" and not moved.is_set():
            moved.set()
            await move_ticket(db, public_id, "ISSUE_CREATED")

    base = await serve(aiohttp_server, db, after_page=move_after_the_page_is_rendered)
    dom = await dump_dom(f"{base}/track/{public_id}?token={token}", tmp_path / "profile")
    assert moved.is_set()
    assert 'data-live="on"' in dom
    assert current_steps(dom) == ["ISSUE_CREATED"]
    assert dom.count('aria-current="step"') == 1
    assert '<dd id="current-stage">Issue created</dd>' in dom
    assert "Moved to ISSUE_CREATED by a test" in dom
    assert "the ticket is now at Issue created" in dom
    assert "This page updates itself every few seconds." in dom
    assert "Crash when &lt;saving&gt;" in dom


async def test_without_javascript_the_server_rendered_page_is_complete(
    aiohttp_server, db, ticket, tmp_path
):
    public_id, token = ticket
    base = await serve(aiohttp_server, db, javascript=False)
    dom = await dump_dom(f"{base}/track/{public_id}?token={token}", tmp_path / "profile")
    assert 'data-live="on"' not in dom
    assert current_steps(dom) == ["RECEIVED"]
    assert "Crash when &lt;saving&gt;" in dom
    assert ">Refresh</a>" in dom
    assert "Use Refresh to see the newest stage." in dom
