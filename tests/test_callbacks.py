"""Signed ticket callbacks (issue 17, item 5): a ticket created with a ``callbackUrl`` has each
stage change and public comment POSTed to it, signed with the secret its create showed once,
checked by a real receiving server (tests/webhook_receiver.py); retried with the same id and
bytes, turned off by 410, logged; and never sent to loopback, private, link-local or metadata
addresses, whether named literally, through DNS or by a redirect."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy import select, update

from bot.config import ConfigError, Settings
from bot.jobs.worker import WORKERS
from bot.rules import callbacks as rules
from bot.tickets import transitions
from bot.tickets.callbacks import VettingResolver, delivery_handler
from storage.models import (
    CallbackDelivery,
    Job,
    Product,
    QueueState,
    StageTransition,
    Ticket,
    TicketCallback,
)
from storage.repos.tickets import TicketRepo, active_callback_as_read
from storage.types import utcnow
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import bearer, make_key
from tests.test_web_admin import sign_in
from tests.webhook_receiver import Receiver, start_receiver

TICKETS = "/api/v1/desk/tickets"
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
SETTINGS = Settings(admin_token=ADMIN_TOKEN, run_workers=False, callback_allow=LOOPBACK)
NEW = {"subject": "Export fails", "body": "CSV export returns 500.", "email": "bot@agent.test"}


@pytest.fixture
async def receiver(aiohttp_server) -> Receiver:
    return await start_receiver(
        aiohttp_server, "/hooks/tinydesk", signature_header="X-TinyDesk-Signature-256"
    )


@pytest.fixture
async def desk(make_client):
    client = await make_client(SETTINGS)
    return client, bearer(await make_key(client))


async def create(client, headers, **fields):
    resp = await client.post(TICKETS, json={**NEW, **fields}, headers=headers)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def drain(client) -> None:
    await client.app[WORKERS].drain()


async def deliveries(db) -> list[CallbackDelivery]:
    async with db.session() as session:
        return list(await session.scalars(select(CallbackDelivery).order_by(CallbackDelivery.id)))


async def comment(client, headers, ticket, body: str, internal: bool = False) -> None:
    resp = await client.post(
        f"{TICKETS}/{ticket['id']}/comments",
        json={"body": body, "internal": internal},
        headers=headers,
    )
    assert resp.status == 201, await resp.text()


async def test_steps_and_public_comments_arrive_signed_and_internal_notes_never(desk, receiver, db):
    client, headers = desk
    ticket = await create(client, headers, callbackUrl=receiver.url)
    receiver.secret = ticket["callbackSecret"]
    assert receiver.secret.startswith("cbsec_")
    await comment(client, headers, ticket, "SECRET note for staff", internal=True)
    await comment(client, headers, ticket, "We found the cause.")
    resp = await client.patch(
        f"{TICKETS}/{ticket['id']}", json={"status": "closed"}, headers=headers
    )
    assert resp.status == 200, await resp.text()
    await drain(client)
    # Sent side by side, they may arrive in any order; their sequence says which came first.
    received = sorted(receiver.received, key=lambda r: r["body"]["sequence"])
    events = [r["event"] for r in received]
    assert events[0] == "ticket.comment_added" and "ticket.stage_changed" in events
    said = received[0]["body"]
    assert said["ticket"] == {
        "publicId": ticket["publicId"],
        "status": "RECEIVED",
        "subject": "Export fails",
    }
    assert said["comment"]["body"] == "We found the cause."
    assert said["comment"]["bySubmitter"] is False
    closed = next(r["body"] for r in received if r["event"] == "ticket.stage_changed")
    assert closed["change"]["to"] == "CLOSED" and closed["ticket"]["status"] == "CLOSED"
    for received in receiver.received:
        raw = received["raw"].decode()
        assert "SECRET" not in raw and "bot@agent.test" not in raw and "cbsec_" not in raw
    assert {d.state for d in await deliveries(db)} == {rules.DELIVERED}
    # The secret is stored sealed, never as shown.
    async with db.session() as session:
        [stored] = (await session.scalars(select(TicketCallback))).all()
    assert receiver.secret not in stored.secret


async def test_the_public_create_takes_a_callback_too(client, product, receiver, make_client):
    public = await make_client(SETTINGS)
    resp = await public.post(
        "/api/tickets",
        json={
            "productSlug": "my-saas-app",
            "submitterEmail": "agent@example.com",
            "subject": "Webhook please",
            "body": "Tell my agent.",
            "callbackUrl": receiver.url,
        },
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["callbackSecret"].startswith("cbsec_")
    resp = await public.post(
        "/api/tickets",
        json={
            "productSlug": "my-saas-app",
            "submitterEmail": "agent@example.com",
            "subject": "No callback",
            "body": "None asked for.",
        },
    )
    assert "callbackSecret" not in await resp.json()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/",
        "ftp://example.com/hook",
        "https://user:pass@example.com/hook",
        "https://exa mple.com/",
        "not a url",
        42,
    ],
)
async def test_intake_refuses_callbacks_to_local_addresses_and_odd_urls(make_client, url):
    client = await make_client(Settings(admin_token=ADMIN_TOKEN, run_workers=False))
    headers = bearer(await make_key(client))
    resp = await client.post(TICKETS, json={**NEW, "callbackUrl": url}, headers=headers)
    assert resp.status == 400
    body = await resp.json()
    assert "callbackUrl" in body["fields"] and body["hint"]


class FixedDns(AbstractResolver):
    """A name server that answers every name with one address (here: a private one), as a
    public name pointed at an internal host would."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host=self.address, port=port, family=family, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


async def deliver_one(db, settings: Settings, resolver=VettingResolver) -> CallbackDelivery:
    """Work the one callback job with ``resolver`` for DNS; the delivery as logged."""
    handler = delivery_handler(db, settings, resolver)
    async with db.session() as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == "ticket_callback"))).all()
    await handler(job)
    [delivery] = await deliveries(db)
    return delivery


async def test_a_name_resolving_to_a_private_address_is_refused_after_dns(desk, db):
    client, headers = desk
    ticket = await create(client, headers, callbackUrl="https://hooks.example.test/tinydesk")
    await comment(client, headers, ticket, "Hello")
    delivery = await deliver_one(
        db, SETTINGS, lambda allow: VettingResolver(allow, FixedDns("10.0.0.1"))
    )
    assert delivery.state == rules.PARKED and delivery.last_status is None
    assert "refused" in delivery.last_error and "10.0.0.1 is a private address" in (
        delivery.last_error
    )


async def test_localhost_by_name_is_refused_without_an_allowlist(desk, db, receiver):
    client, headers = desk
    url = receiver.url.replace("127.0.0.1", "localhost")
    ticket = await create(client, headers, callbackUrl=url)  # a name: taken at intake
    await comment(client, headers, ticket, "Hello")
    strict = dataclasses.replace(SETTINGS, callback_allow=())
    delivery = await deliver_one(db, strict)
    assert delivery.state == rules.PARKED
    assert "loopback" in delivery.last_error
    assert receiver.received == []


async def test_a_redirect_is_not_followed(desk, db, aiohttp_server):
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("http://169.254.169.254/latest/meta-data/")

    app = web.Application()
    app.router.add_post("/hook", redirect)
    server = await aiohttp_server(app, host="127.0.0.1")
    client, headers = desk
    ticket = await create(client, headers, callbackUrl=str(server.make_url("/hook")))
    await comment(client, headers, ticket, "Hello")
    delivery = await deliver_one(db, SETTINGS)
    assert delivery.state == rules.PARKED and delivery.last_status == 307
    assert "redirects are not followed" in delivery.last_error


async def test_a_failure_is_retried_with_the_same_event_and_bytes(desk, receiver, db):
    client, headers = desk
    ticket = await create(client, headers, callbackUrl=receiver.url)
    receiver.secret = ticket["callbackSecret"]
    receiver.answers = [503]
    await comment(client, headers, ticket, "Retry me")
    await drain(client)
    [delivery] = await deliveries(db)
    assert delivery.state == rules.PENDING and delivery.attempts == 1
    assert delivery.last_status == 503
    async with db.begin() as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == "ticket_callback"))).all()
        assert job.state == QueueState.PENDING
        assert (job.next_attempt_at - utcnow()).total_seconds() > 5  # the first wait: 10 s
        await session.execute(update(Job).values(next_attempt_at=utcnow()))
    await drain(client)
    first, second = receiver.received
    assert first["raw"] == second["raw"] and first["body"]["id"] == second["body"]["id"]
    [delivery] = await deliveries(db)
    assert delivery.state == rules.DELIVERED and delivery.attempts == 2


async def test_410_gone_turns_the_callback_off(desk, receiver, db):
    client, headers = desk
    ticket = await create(client, headers, callbackUrl=receiver.url)
    receiver.secret = ticket["callbackSecret"]
    receiver.answers = [410]
    await comment(client, headers, ticket, "First")
    await drain(client)
    [delivery] = await deliveries(db)
    assert delivery.state == rules.STOPPED and delivery.last_status == 410
    await comment(client, headers, ticket, "Second")
    await drain(client)
    assert len(await deliveries(db)) == 1  # nothing queued for a callback turned off
    assert len(receiver.received) == 1


def test_retries_span_about_a_day_then_park():
    assert 20 * 3600 < sum(rules.RETRY_DELAYS) < 26 * 3600
    assert list(rules.RETRY_DELAYS) == sorted(rules.RETRY_DELAYS)
    assert rules.retry_delay(1) == 10 and rules.retry_delay(len(rules.RETRY_DELAYS) + 1) is None
    assert [rules.outcome_of(s) for s in (200, 204, 410, 500, 429, 404, 301)] == [
        "delivered",
        "delivered",
        "stopped",
        "retry",
        "retry",
        "parked",
        "parked",
    ]


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("fd00:ec2::254", False),
        ("fe80::1", False),
        ("::ffff:10.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
    ],
)
def test_only_public_addresses_are_called(address, allowed):
    ip = ipaddress.ip_address(address)
    assert (rules.address_problem(ip) is None) is allowed
    # An allowlisted network is called whatever it is (IPv4 written as IPv6 is IPv4).
    plain = getattr(ip, "ipv4_mapped", None) or ip
    allow = (ipaddress.ip_network(f"{plain}/{plain.max_prefixlen}"),)
    assert rules.address_problem(ip, allow) is None


def test_the_allowlist_setting_is_read_and_checked():
    settings = Settings.from_env({"TINYDESK_CALLBACK_ALLOW": "10.0.0.0/8, 127.0.0.1"})
    assert [str(n) for n in settings.callback_allow] == ["10.0.0.0/8", "127.0.0.1/32"]
    with pytest.raises(ConfigError, match="TINYDESK_CALLBACK_ALLOW"):
        Settings.from_env({"TINYDESK_CALLBACK_ALLOW": "10.0.0.0/8,intranet"})


async def test_the_admin_log_shows_each_delivery_and_sends_a_parked_one_again(desk, receiver, db):
    client, headers = desk
    ticket = await create(client, headers, callbackUrl=receiver.url)
    receiver.secret = ticket["callbackSecret"]
    receiver.answers = [400]  # refused for good: parked at once
    await comment(client, headers, ticket, "Hello")
    await drain(client)
    [delivery] = await deliveries(db)
    assert delivery.state == rules.PARKED
    csrf = await sign_in(client)
    page = await (await client.get(f"/admin/callbacks?ticket={ticket['publicId']}")).text()
    assert delivery.event_id in page and "parked" in page and "answered 400" in page
    assert receiver.url in page
    other = await (await client.get("/admin/callbacks?ticket=TK-99999")).text()
    assert "No callbacks." in other
    resp = await client.post(
        f"/admin/callbacks/{delivery.id}/redeliver",
        data={"csrf_token": csrf},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert "callback-redelivered" in resp.headers["Location"]
    await drain(client)
    [delivery] = await deliveries(db)
    assert delivery.state == rules.DELIVERED
    assert [r["body"]["id"] for r in receiver.received] == [delivery.event_id] * 2
    # Without the session's CSRF token nothing is queued.
    resp = await client.post(f"/admin/callbacks/{delivery.id}/redeliver", data={})
    assert resp.status in (400, 403)


@pytest.mark.parametrize("callback", ["active", "off", "none"])
async def test_a_stage_change_from_github_reaches_only_an_active_callback(db, callback):
    """The read of a ticket on its issue says whether its callback is active, and the
    stage change queues a delivery exactly when it is (without a read of its own when not)."""
    now = utcnow()
    async with db.begin() as session:
        product = Product(slug="app", name="App", repo_owner="octo", repo_name="app")
        session.add(product)
        await session.flush()
        ticket = Ticket(
            desk_id="tkt_cb",
            product_id=product.id,
            subject="Export fails",
            body="CSV export returns 500.",
            submitter_email="bot@agent.test",
            tracking_token_hash="h" * 64,
            issue_number=7,
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        await session.flush()
        if callback != "none":
            session.add(
                TicketCallback(
                    ticket_id=ticket.id,
                    url="https://hooks.example.com/tinydesk",
                    secret="sealed",
                    active=callback == "active",
                    created_at=now,
                )
            )
        product_id, ticket_id = product.id, ticket.id
    async with db.begin() as session:
        product = await session.get(Product, product_id)
        assert product is not None
        tickets = await TicketRepo(session).linked_to_issue(product_id, 7, lock=True)
        assert active_callback_as_read(session, ticket_id) is (callback == "active")
        moved = await transitions.refresh_tickets(
            session, tickets, product, transitions.Cause("issues.opened")
        )
    assert [t.id for t in moved] == [ticket_id]
    async with db.session() as session:
        sent = (await session.scalars(select(CallbackDelivery))).all()
        steps = (await session.scalars(select(StageTransition))).all()
    assert steps
    assert len(sent) == (len(steps) if callback == "active" else 0)
