"""Invoice numbers are gapless and unique under concurrent issuing on PostgreSQL (issue 16):
two real ``tinydesk serve`` processes on one database issue 20 drafts at once and hand out
INV-2026-0001..0020, each once; and an issue whose transaction fails after taking a number
gives the number back, so the next issue gets it."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.billing import invoices as invoice_service
from bot.config import Settings
from bot.sim.stack import ServerProcess
from storage.database import Database
from storage.models import InvoiceSequence
from storage.repos.billing import BillingRepo
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN, _truncate_all

pytestmark = pytest.mark.postgres_only

DRAFTS = 20
# The servers import this worktree's code, whichever package the venv installed.
SOURCE = str(Path(__file__).resolve().parents[1])


async def _json(resp: aiohttp.ClientResponse, status: int) -> dict:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _prepare_draft(http: aiohttp.ClientSession, url: str, key: dict, n: int) -> str:
    """Client ``n`` with an hour of work at 100.00 on a ticket, and its draft's id."""
    async with http.post(
        f"{url}/api/v1/desk/clients",
        json={
            "name": f"Client {n:02d}",
            "currency": "EUR",
            "hourlyRate": "100.00",
            "domains": [f"c{n}.test"],
        },
        headers=key,
    ) as resp:
        client = await _json(resp, 201)
    async with http.post(
        f"{url}/api/v1/desk/tickets",
        json={"subject": f"Ticket {n}", "body": "Help", "email": f"u@c{n}.test"},
        headers=key,
    ) as resp:
        ticket = await _json(resp, 201)
    async with http.post(
        f"{url}/api/v1/desk/tickets/{ticket['id']}/time",
        json={"minutes": 60, "description": "work", "startedAt": "2026-03-10T09:00:00Z"},
        headers=key,
    ) as resp:
        await _json(resp, 201)
    async with http.post(
        f"{url}/api/v1/desk/invoices",
        json={"client": client["id"], "periodEnd": "2026-03-31"},
        headers=key,
    ) as resp:
        draft = await _json(resp, 201)
    assert draft["number"] is None and draft["total"] == "100.00"
    return draft["id"]


@pytest.mark.slow
async def test_twenty_drafts_issued_at_once_by_two_processes_get_0001_to_0020(
    postgres_url, tmp_path
):
    await _truncate_all(postgres_url)
    env = {
        "DATABASE_URL": postgres_url,
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "REDIS_URL": "",
        "TINYDESK_DESK_RATE_LIMIT": "0",
        "TINYDESK_DESK_CREATE_RATE_LIMIT": "0",
        "PYTHONPATH": SOURCE,
    }
    servers = [ServerProcess(env, tmp_path / f"serve-{i}.log") for i in range(2)]
    try:
        for server in servers:
            await asyncio.to_thread(server.wait_ready)
        a, b = (server.url for server in servers)
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{a}/api/admin/keys", json={"name": "billing@support.com"}, headers=ADMIN_HEADERS
            ) as resp:
                key = {"Authorization": f"Bearer {(await _json(resp, 201))['key']}"}
            drafts = [await _prepare_draft(http, a, key, n) for n in range(DRAFTS)]

            async def issue(n: int, draft: str) -> str:
                url = (a, b)[n % 2]
                async with http.post(
                    f"{url}/api/v1/desk/invoices/{draft}/issue",
                    json={"issueDate": "2026-04-02"},
                    headers=key,
                ) as resp:
                    return (await _json(resp, 200))["number"]

            numbers = await asyncio.gather(*(issue(n, d) for n, d in enumerate(drafts)))
            async with http.get(
                f"{b}/api/v1/desk/invoices?status=issued&limit=100", headers=key
            ) as resp:
                listed = await _json(resp, 200)
    finally:
        for server in servers:
            server.stop()
    expected = [f"INV-2026-{n:04d}" for n in range(1, DRAFTS + 1)]
    assert sorted(numbers) == expected  # 20 distinct, no gap, no duplicate
    assert sorted(i["number"] for i in listed["invoices"]) == expected
    database = Database(postgres_url)
    try:
        async with database.session() as session:
            sequence = await session.scalar(
                select(InvoiceSequence).where(
                    InvoiceSequence.series == "INV", InvoiceSequence.year == 2026
                )
            )
            assert sequence is not None and sequence.last_number == DRAFTS
    finally:
        await database.dispose()
    for server in servers:
        assert "Traceback" not in server.log()


class RenderingFailed(RuntimeError):
    pass


async def test_an_issue_that_fails_after_taking_a_number_gives_it_back(
    postgres_url, aiohttp_client, monkeypatch
):
    await _truncate_all(postgres_url)
    db = Database(postgres_url)
    try:
        app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
        http = await aiohttp_client(app)
        async with http.post(
            "/api/admin/keys", json={"name": "billing@support.com"}, headers=ADMIN_HEADERS
        ) as resp:
            key = {"Authorization": f"Bearer {(await _json(resp, 201))['key']}"}
        url = str(http.make_url("")).rstrip("/")
        first, second = [await _prepare_draft(http.session, url, key, n) for n in range(2)]

        def fail(view: dict) -> bytes:
            assert view["number"] == "INV-2026-0001"  # taken, and then the issue fails
            raise RenderingFailed("the PDF could not be rendered")

        with monkeypatch.context() as patched:
            patched.setattr(invoice_service, "render_invoice_pdf", fail)
            with pytest.raises(RenderingFailed):
                async with db.begin() as session:
                    invoice = await invoice_service.find_invoice(session, first, lock=True)
                    client = await BillingRepo(session).client(invoice.client_id)
                    assert client is not None
                    await invoice_service.issue(
                        session, invoice, client, dt.date(2026, 4, 2), None, app[CLOCK]()
                    )
        async with db.session() as session:
            failed = await invoice_service.find_invoice(session, first)
            assert (failed.status, failed.number, failed.pdf) == ("draft", None, None)
            taken = await session.scalar(
                select(InvoiceSequence.last_number).where(InvoiceSequence.series == "INV")
            )
            assert taken is None  # the sequence row itself was rolled back

        numbers = []
        for draft in (second, first):
            async with http.post(
                f"/api/v1/desk/invoices/{draft}/issue",
                json={"issueDate": "2026-04-02"},
                headers=key,
            ) as resp:
                numbers.append((await _json(resp, 200))["number"])
        assert numbers == ["INV-2026-0001", "INV-2026-0002"]
    finally:
        await db.dispose()
