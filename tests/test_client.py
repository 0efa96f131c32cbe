"""The Python client (issue 18, item 2) against a real `tinydesk serve` process: the public,
desk (seed 001) and ITSM (seed 002) APIs, sync and async; pagination by cursor; errors as
exceptions with error, hint and fields; retries on 503 and 429 honouring Retry-After (against
a real HTTP server that answers so); the callback signature verifier against the server's
own signing."""

from __future__ import annotations

import asyncio
import email.utils
import time
import uuid

import httpx
import pytest
from aiohttp import web

from bot.cli import main
from bot.sim.stack import ServerProcess
from bot.tickets.sla_alerts import signature
from tinydesk.client import AsyncClient, Client, TinyDeskError, verify_signature
from tinydesk.client.http import retry_wait

ADMIN_TOKEN = "client-test-admin-token-0123456789abcdefghij"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("client")
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'tinydesk.db'}",
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TINYDESK_WORKERS": "false",
    }
    assert main(["products", "add", "my-saas-app", "--repo", "acme/app"], env) == 0
    with ServerProcess(env, folder / "serve.log") as running:
        running.wait_ready()
        yield running


@pytest.fixture(scope="module")
def api_key(server) -> str:
    resp = httpx.post(
        f"{server.url}/api/admin/keys",
        json={"name": "agent@acme.test"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["key"]


def test_public_submit_and_track(server):
    with Client(server.url) as client:
        receipt = client.tickets.submit(
            product_slug="my-saas-app",
            submitter_email="ada@example.com",
            subject="Login fails on Safari",
            body="Steps: open Safari 17, click Sign In.",
        )
        assert receipt["publicId"].startswith("TK-") and receipt["status"] == "RECEIVED"
        anonymous = client.tickets.track(receipt["publicId"])
        assert "subject" not in anonymous
        tracked = client.tickets.track(receipt["publicId"], token=receipt["trackingToken"])
        assert tracked["subject"] == "Login fails on Safari"
        with pytest.raises(TinyDeskError) as refused:
            client.tickets.submit(
                product_slug="my-saas-app", submitter_email="nope", subject="x", body="y"
            )
    assert refused.value.status == 400 and "submitterEmail" in refused.value.fields
    assert refused.value.hint


def test_desk_tickets_comments_time_and_stats(server, api_key):
    with Client(server.url, api_key) as client:
        key = str(uuid.uuid4())
        first = client.desk.tickets.create(
            subject="Export fails",
            body="CSV export 500s",
            email="bo@example.com",
            idempotency_key=key,
        )
        again = client.desk.tickets.create(
            subject="Export fails",
            body="CSV export 500s",
            email="bo@example.com",
            idempotency_key=key,
        )
        assert again["id"] == first["id"]  # sent twice, made once
        client.desk.tickets.comments.add(first["id"], "Looking into it.")
        logged = client.desk.time.log(first["id"], minutes=30, description="Reproduced")
        assert logged["minutes"] == 30
        assert client.desk.time.of_ticket(first["id"])
        updated = client.desk.tickets.update(first["id"], priority="high")
        assert updated["priority"] == "high"
        stats = client.desk.stats()
        assert stats["totalTickets"] >= 1 and stats["byStatus"]["open"] >= 1
        for n in range(4):
            client.desk.tickets.create(subject=f"Bulk {n}", body="b", email="bo@example.com")
        every = list(client.desk.tickets.iterate(limit=2))
        assert len(every) == len({t["id"] for t in every}) >= 5
        assert client.desk.tickets.close(first["id"])
        with pytest.raises(TinyDeskError) as missing:
            client.desk.tickets.get("tkt_does-not-exist")
    assert missing.value.status == 404 and missing.value.error == "Ticket not found"
    with Client(server.url, "td_live_wrong") as anonymous, pytest.raises(TinyDeskError) as denied:
        anonymous.desk.tickets.list()
    assert denied.value.status == 401


def test_helpdesk_in_seed_002s_shape(server, api_key):
    with Client(server.url, api_key) as client:
        team = client.helpdesk.teams.create(f"Network {uuid.uuid4().hex[:6]}")
        ticket = client.helpdesk.tickets.create(
            title="VPN drops", description="Since **Monday**", type="incident", team_id=team["id"]
        )
        assert ticket["number"].startswith("TKT-") and ticket["team_id"] == team["id"]
        assert client.helpdesk.tickets.get(ticket["number"])["id"] == ticket["id"]
        changed = client.helpdesk.tickets.update(ticket["id"], type="problem")
        assert changed["schema_version"] == 2
        assert client.helpdesk.tickets.close(ticket["id"])["status"] == "closed"
        assert client.helpdesk.tickets.delete(ticket["id"])["is_deleted"] is True
        listed = [t["id"] for t in client.helpdesk.tickets.iterate(limit=1)]
        assert ticket["id"] not in listed
        deleted = [t["id"] for t in client.helpdesk.tickets.iterate(include_deleted=True)]
        assert ticket["id"] in deleted
        assert client.helpdesk.tickets.restore(ticket["id"])["is_deleted"] is False
        with pytest.raises(TinyDeskError) as refused:
            client.helpdesk.tickets.create(title="", description="x")
    assert "title" in refused.value.fields


def test_the_async_client_is_the_same_api(server, api_key):
    async def scenario() -> None:
        async with AsyncClient(server.url, api_key) as client:
            made = await client.helpdesk.tickets.create(title="Async one", description="d")
            fetched = await client.helpdesk.tickets.get(made["id"])
            assert fetched["title"] == "Async one"
            seen = [t["id"] async for t in client.helpdesk.tickets.iterate(limit=1)]
            assert made["id"] in seen
            desk = await client.desk.tickets.get(made["id"])
            assert desk["subject"] == "Async one"  # one record, several views
            with pytest.raises(TinyDeskError):
                await client.desk.tickets.get("TK-99999999")

    asyncio.run(scenario())


def test_429_and_503_are_retried_after_retry_after():
    """A real HTTP server that is busy for two answers, then takes the request."""
    answers = [
        (503, {"Retry-After": "0"}),
        (429, {"Retry-After": email.utils.formatdate(time.time(), usegmt=True)}),
    ]
    seen = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        if answers:
            status, headers = answers.pop(0)
            return web.json_response(
                {"error": "Busy", "hint": "Wait."}, status=status, headers=headers
            )
        return web.json_response({"publicId": "TK-00001"}, status=201)

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/api/tickets", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with AsyncClient(f"http://127.0.0.1:{port}", max_wait=1) as client:
                receipt = await client.tickets.submit(
                    product_slug="p",
                    submitter_email="a@b.co",
                    subject="s",
                    body="b",
                    idempotency_key="k-1",
                )
            assert receipt == {"publicId": "TK-00001"}
            answers.append((503, {}))
            async with AsyncClient(f"http://127.0.0.1:{port}", max_retries=0) as client:
                with pytest.raises(TinyDeskError) as busy:
                    await client.tickets.submit(
                        product_slug="p", submitter_email="a@b.co", subject="s", body="b"
                    )
            assert busy.value.status == 503 and busy.value.error == "Busy"
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
    assert seen[:3] == ["k-1"] * 3  # the same key on every attempt


def test_retry_waits():
    def response(header: str | None) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": header} if header else {})

    assert retry_wait(response("7"), 0, max_wait=60) == 7
    assert retry_wait(response("700"), 0, max_wait=60) == 60
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_wait(response(later), 0, max_wait=60) <= 30
    assert retry_wait(response(None), 2, max_wait=60) == 2.0
    assert retry_wait(response("soon"), 0, max_wait=60) == 0.5


def test_the_verifier_accepts_what_tinydesk_signs_and_nothing_else():
    body = b'{"id":"evt_1","type":"ticket.stage_changed"}'
    now = int(time.time())
    headers = {
        "X-TinyDesk-Timestamp": str(now),
        "X-TinyDesk-Signature-256": signature("cbsec_secret", str(now), body),
    }
    assert verify_signature("cbsec_secret", headers, body)
    assert not verify_signature("cbsec_other", headers, body)
    assert not verify_signature("cbsec_secret", headers, body + b" ")
    assert not verify_signature("cbsec_secret", headers, body, now=now + 3600)  # replayed
    assert not verify_signature("cbsec_secret", {}, body)
    sla = {
        "X-TinyDesk-Timestamp": str(now),
        "X-TinyDesk-Signature": headers["X-TinyDesk-Signature-256"],
    }
    assert verify_signature("cbsec_secret", sla, body)  # the SLA webhooks' header name
