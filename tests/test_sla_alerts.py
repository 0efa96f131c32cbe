"""SLA warnings and breaches told (issue 15, item 7): the sweep records each event once (twice
swept, two processes, a restart), staff see the events, the product's webhook receives them
signed (a real aiohttp server on 127.0.0.1 checks the signature), a 500 is retried, a 4xx
gives up, and a clock stopped in time has no breach. Time is the app's CLOCK; nothing sleeps.

Also the product PATCH that sets the webhook: the URL rules, the secret shown once and stored
encrypted, rotation, removal."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from bot.app import create_app
from bot.appkeys import CLOCK, DB
from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.jobs.worker import WORKERS
from bot.tickets import sla_alerts, sla_webhook
from storage.database import Database
from storage.models import Job, Product, QueueState, SlaEvent, Ticket
from storage.types import utcnow
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer, create_ticket, make_key
from tests.openapi_recorder import ResponseRecorder
from tests.webhook_receiver import Receiver, start_receiver
from tests.world import World, github_settings, make_world

UTC = dt.UTC
FRIDAY_1650 = dt.datetime(2026, 12, 4, 16, 50, tzinfo=UTC)
SLUG = "my-saas-app"


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return FRIDAY_1650.replace(hour=hour, minute=minute, second=second)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def receiver(aiohttp_server) -> Receiver:
    return await start_receiver(aiohttp_server, "/hooks/sla")


@pytest.fixture
def clock() -> Clock:
    return Clock(FRIDAY_1650)


@pytest.fixture
def make_app_client(aiohttp_client, clock):
    """Start TinyDesk (on a given Database) with the test's clock set before it starts."""
    recorder = ResponseRecorder()

    async def make(settings: Settings, db: Database):
        app = create_app(settings, db=db)
        app[CLOCK] = clock
        app.on_response_prepare.append(recorder.on_prepare)
        return await aiohttp_client(app)

    yield make
    recorder.assert_valid()


@pytest.fixture
async def world(make_app_client, fake_github, db) -> World:
    return await make_world(lambda settings: make_app_client(settings, db), fake_github)


async def set_webhook(client, url: str | None, **extra: Any) -> dict:
    resp = await client.patch(
        f"/api/admin/products/{SLUG}", json={"slaWebhookUrl": url, **extra}, headers=ADMIN_HEADERS
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.fixture
async def desk(world: World, receiver: Receiver) -> dict:
    """The product's webhook points at ``receiver``; a desk key for all products."""
    receiver.secret = (await set_webhook(world.client, receiver.url))["slaWebhookSecret"]
    return await make_key(world.client)


async def urgent_ticket(world: World, key: dict) -> dict:
    """Critical (urgent) at 16:50 under the default policy (24x7, warn 30 minutes ahead):
    the response is due 17:20 (a 30-minute target: the warning is due at once), the
    resolution 20:50 (warning from 20:20)."""
    return await create_ticket(world.client, key, priority="urgent", productSlug=SLUG)


async def sweep(world: World, now: dt.datetime) -> int:
    return await sla_alerts.sweep(world.client.app[DB], now)


async def events(db: Database) -> list[tuple[str, str, dt.datetime]]:
    async with db.session() as session:
        rows = await session.execute(
            select(SlaEvent.kind, SlaEvent.clock, SlaEvent.due_at).order_by(SlaEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def notify_jobs(db: Database) -> list[Job]:
    async with db.session() as session:
        query = select(Job).where(Job.kind == JobKind.SLA_NOTIFY).order_by(Job.id)
        return list((await session.scalars(query)).all())


async def make_due_now(db: Database) -> None:
    """A retried job's backoff has passed (without waiting for it)."""
    async with db.begin() as session:
        await session.execute(
            update(Job)
            .where(Job.kind == JobKind.SLA_NOTIFY, Job.state == QueueState.PENDING)
            .values(next_attempt_at=utcnow())
        )


WARNING = ("warning", "response", at(17, 20))
BREACH = ("breach", "response", at(17, 20))


async def test_a_ticket_gets_one_warning_and_one_breach_however_often_it_is_swept(
    world, desk, receiver, db
):
    """Protects: "records an SLA event once" and the webhook told once per event, with the
    fields the brief names and nothing that identifies the submitter."""
    ticket = await urgent_ticket(world, desk)
    assert await sweep(world, at(16, 50)) == 1
    assert await sweep(world, at(16, 50)) == 0
    assert await sweep(world, at(17, 0)) == 0
    assert await events(db) == [WARNING]
    await world.drain()
    assert await sweep(world, at(17, 20)) == 0  # due, not yet breached
    assert await sweep(world, at(17, 20, 1)) == 1
    assert await sweep(world, at(17, 25)) == 0
    assert await events(db) == [WARNING, BREACH]
    await world.drain()
    await world.drain()
    assert [r["event"] for r in receiver.received] == ["sla.warning", "sla.breach"]
    breach = receiver.received[1]["body"]
    assert breach == {
        "id": breach["id"],
        "type": "sla.breach",
        "kind": "breach",
        "clock": "response",
        "ticketId": ticket["id"],
        "publicId": ticket["publicId"],
        "subject": "Login issue",
        "priority": "urgent",
        "policy": "Default",
        "dueAt": "2026-12-04T17:20:00Z",
        "at": "2026-12-04T17:20:01Z",
        "minutesLeft": 0.0,
        "minutesOverdue": 0.0,
        "url": f"https://desk.example.test/admin/tickets/{ticket['publicId']}",
    }
    assert breach["id"].startswith("slaevt_")
    assert receiver.received[0]["body"]["minutesLeft"] == 30.0
    for request in receiver.received:
        assert b"customer@example.com" not in request["raw"]
        assert receiver.secret is not None and receiver.secret.encode() not in request["raw"]
    assert [j.state for j in await notify_jobs(db)] == [QueueState.DONE] * 2


async def test_a_late_sweep_says_by_how_much_and_tells_no_stale_warning(world, desk, receiver, db):
    """Protects: a sweep that comes late (the server was down) tells the breach alone, with
    the minutes overdue."""
    await urgent_ticket(world, desk)
    assert await sweep(world, at(17, 32)) == 1
    assert await events(db) == [BREACH]
    await world.drain()
    assert receiver.received[0]["body"]["minutesOverdue"] == 12.0


async def test_staff_see_the_events_in_the_ticket_and_the_public_never(world, desk, receiver):
    """Protects: events "visible in the ticket's history for staff", and only for staff."""
    ticket = await urgent_ticket(world, desk)
    await sweep(world, at(16, 50))
    await sweep(world, at(17, 21))
    resp = await world.client.get(f"/api/v1/desk/tickets/{ticket['id']}", headers=bearer(desk))
    assert resp.status == 200
    assert (await resp.json())["slaEvents"] == [
        {
            "kind": "warning",
            "clock": "response",
            "dueAt": "2026-12-04T17:20:00.000Z",
            "at": "2026-12-04T16:50:00.000Z",
        },
        {
            "kind": "breach",
            "clock": "response",
            "dueAt": "2026-12-04T17:20:00.000Z",
            "at": "2026-12-04T17:21:00.000Z",
        },
    ]
    public = await world.client.get(f"/api/tickets/{ticket['publicId']}")
    assert public.status == 200
    assert "slaEvents" not in await public.json()
    assert "breach" not in await public.text()
    tracking = await world.client.get(f"/track/{ticket['publicId']}")
    assert "breach" not in (await tracking.text()).lower()


async def test_the_admin_ticket_page_lists_the_events(world, desk, receiver):
    """Protects: the webhook's ``url`` (the admin ticket page) shows what was told."""
    from tests.test_web_admin import sign_in

    ticket = await urgent_ticket(world, desk)
    await sweep(world, at(17, 21))
    await sign_in(world.client)
    page = await (await world.client.get(f"/admin/tickets/{ticket['publicId']}")).text()
    assert "SLA warnings and breaches" in page
    section = page.split("SLA warnings and breaches", 1)[1].split("</section>", 1)[0]
    assert "breach" in section and "response" in section and "Default" in section


async def test_two_processes_sweeping_at_once_record_each_event_once(
    world, desk, receiver, db, database_url
):
    """Protects: "once, across processes": two Database objects (two processes' pools; on
    PostgreSQL they skip each other's locked tickets) sweep the same due tickets together."""
    for _ in range(5):
        await urgent_ticket(world, desk)
    other = Database(database_url, pool_size=5)
    try:
        for now in (at(16, 50), at(17, 21)):
            counts = await asyncio.gather(
                sla_alerts.sweep(db, now, batch=2), sla_alerts.sweep(other, now, batch=2)
            )
            assert sum(counts) == 5
    finally:
        await other.dispose()
    async with db.session() as session:
        per_ticket = await session.execute(
            select(SlaEvent.ticket_id, func.count()).group_by(SlaEvent.ticket_id)
        )
        assert sorted(n for _, n in per_ticket) == [2] * 5
    assert len(await notify_jobs(db)) == 10


async def test_a_restart_tells_nothing_twice(
    world, desk, receiver, database_url, fake_github, make_app_client, clock
):
    """Protects: "never duplicated after a restart": a new app on a new connection pool
    sweeps the same instants again and its outbox has nothing new to send."""
    await urgent_ticket(world, desk)
    await sweep(world, at(16, 50))
    await sweep(world, at(17, 21))
    await world.drain()
    assert len(receiver.received) == 2
    await world.client.close()

    restarted_db = Database(database_url, pool_size=5)
    try:
        clock.now = at(17, 30)
        restarted = await make_app_client(github_settings(fake_github), restarted_db)
        assert await sla_alerts.sweep(restarted_db, at(16, 50)) == 0
        assert await sla_alerts.sweep(restarted_db, at(17, 30)) == 0
        await restarted.app[WORKERS].drain()
        await restarted.close()
    finally:
        await restarted_db.dispose()
    assert len(receiver.received) == 2


async def test_a_500_is_retried_with_the_outbox_backoff(world, desk, receiver, db):
    """Protects: "retried with backoff": the receiver's 500 sends the job round again no
    sooner than the outbox's first backoff (at least a second), with the error kept; the
    next attempt delivers the same event."""
    await urgent_ticket(world, desk)
    receiver.answers = [500]
    await sweep(world, at(16, 50))
    failed_at = utcnow()
    await world.drain()
    (job,) = await notify_jobs(db)
    # The retry's time, set after the 500 (a job done since keeps it): the backoff.
    assert job.next_attempt_at >= failed_at + dt.timedelta(seconds=1)
    if job.state == QueueState.PENDING:  # else a slow machine has retried it already
        assert job.attempts == 1 and "answered 500" in (job.last_error or "")
        await make_due_now(db)
        await world.drain()
        (job,) = await notify_jobs(db)
    assert job.state == QueueState.DONE and job.attempts == 2
    first, second = receiver.received
    assert first["body"] == second["body"]  # the same event id: the receiver can dedupe


async def test_an_unreachable_receiver_is_retried(world, desk, receiver, db):
    """Protects: a network failure (nothing listens) is transient, not a reason to give up."""
    await set_webhook(world.client, "http://127.0.0.1:9/nothing-listens")
    await urgent_ticket(world, desk)
    await sweep(world, at(16, 50))
    await world.drain()
    (job,) = await notify_jobs(db)
    assert job.state == QueueState.PENDING
    assert "could not be reached" in (job.last_error or "")


@pytest.mark.parametrize("status", [400, 404, 410])
async def test_a_4xx_gives_up(world, desk, receiver, db, status):
    """Protects: a receiver that refuses the request is not hammered: the job is parked as
    failed at once (replayable from the admin pages)."""
    await urgent_ticket(world, desk)
    receiver.answers = [status]
    await sweep(world, at(16, 50))
    await world.drain()
    await make_due_now(db)
    await world.drain()
    (job,) = await notify_jobs(db)
    assert job.state == QueueState.FAILED and job.attempts == 1
    assert f"answered {status}" in (job.last_error or "")
    assert len(receiver.received) == 1


@pytest.mark.parametrize("status", [408, 429])
async def test_408_and_429_are_retried(world, desk, receiver, db, status):
    """Protects: a receiver that timed out or asks to slow down is tried again later."""
    await urgent_ticket(world, desk)
    # Every answer the same: a drain slower than the first backoff (1-2 s) tries again and
    # must still find it pending, never parked.
    receiver.answers = [status] * 20
    await sweep(world, at(16, 50))
    await world.drain()
    (job,) = await notify_jobs(db)
    assert job.state == QueueState.PENDING and job.attempts >= 1
    assert f"answered {status}" in (job.last_error or "")


async def test_a_clock_stopped_in_time_gets_no_breach(world, desk, receiver, db, clock):
    """Protects: a public staff reply at 17:05 (before the 17:20 due time) ends the
    response clock: later sweeps record no breach, only the warning given at 16:50."""
    ticket = await urgent_ticket(world, desk)
    await sweep(world, at(16, 50))
    clock.now = at(17, 5)
    resp = await world.client.post(
        f"/api/v1/desk/tickets/{ticket['id']}/comments",
        json={"body": "Looking into it now.", "internal": False},
        headers=bearer(desk),
    )
    assert resp.status == 201, await resp.text()
    for now in (at(17, 21), at(17, 30), at(20, 0)):
        assert await sweep(world, now) == 0
    assert await events(db) == [WARNING]


async def test_a_late_reply_is_still_a_breach(world, desk, receiver, db, clock):
    """Protects: a first reply at 17:25 stops the clock after its 17:20 due time; the sweep
    that runs after the reply still records the broken promise."""
    ticket = await urgent_ticket(world, desk)
    clock.now = at(17, 25)
    resp = await world.client.post(
        f"/api/v1/desk/tickets/{ticket['id']}/comments",
        json={"body": "Sorry for the wait.", "internal": False},
        headers=bearer(desk),
    )
    assert resp.status == 201
    assert await sweep(world, at(17, 25, 30)) == 1
    assert await events(db) == [BREACH]


async def test_test_tickets_and_deleted_tickets_are_not_told(world, receiver, db):
    """Protects: test-mode tickets (a test key) and deleted tickets get no events and no
    webhook; their next alert instant is cleared so the sweep stops looking at them."""
    receiver.secret = (await set_webhook(world.client, receiver.url))["slaWebhookSecret"]
    test_key = await make_key(world.client, name="sandbox", test=True)
    live_key = await make_key(world.client)
    await urgent_ticket(world, test_key)
    deleted = await urgent_ticket(world, live_key)
    resp = await world.client.delete(
        f"/api/v1/desk/tickets/{deleted['id']}", headers=bearer(live_key)
    )
    assert resp.status == 200
    assert await sweep(world, at(21, 0)) == 0
    assert await events(db) == []
    async with db.session() as session:
        assert await session.scalar(select(func.count()).where(SlaEvent.id.is_not(None))) == 0


async def test_no_webhook_no_job_but_the_event_is_kept(world, db):
    """Protects: a product without a webhook still has its events recorded (staff see them)
    and queues nothing."""
    key = await make_key(world.client)
    await urgent_ticket(world, key)
    assert await sweep(world, at(16, 50)) == 1
    assert await notify_jobs(db) == []


async def test_a_webhook_removed_before_sending_sends_nothing(world, desk, receiver, db):
    """Protects: removing the URL stops what is still queued (nothing goes to an old URL)."""
    await urgent_ticket(world, desk)
    await sweep(world, at(16, 50))
    await set_webhook(world.client, None)
    await world.drain()
    assert receiver.received == []
    (job,) = await notify_jobs(db)
    assert job.state == QueueState.DONE


# -- setting the webhook ----------------------------------------------------------------------


async def test_the_first_url_makes_a_secret_shown_once_and_stored_encrypted(world, db):
    """Protects: the secret is in the PATCH answer that made it and nowhere else, and the
    database holds it encrypted."""
    answer = await set_webhook(world.client, "https://hooks.example.com/tinydesk")
    secret = answer["slaWebhookSecret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    assert answer["slaWebhookUrl"] == "https://hooks.example.com/tinydesk"
    listed = await world.client.get("/api/admin/products", headers=ADMIN_HEADERS)
    assert secret not in await listed.text()
    (product,) = (await listed.json())["products"]
    assert product["slaWebhookUrl"] == "https://hooks.example.com/tinydesk"
    assert "slaWebhookSecret" not in product
    async with db.session() as session:
        stored = await session.scalar(select(Product.sla_webhook_secret))
    assert stored is not None and secret not in stored and stored.startswith("fernet:")
    # A changed URL keeps the secret (the receiver's configuration stays valid).
    again = await set_webhook(world.client, "https://hooks.example.com/v2")
    assert "slaWebhookSecret" not in again
    async with db.session() as session:
        assert await session.scalar(select(Product.sla_webhook_secret)) == stored


async def test_rotating_makes_a_new_secret_and_null_removes_the_webhook(world, db):
    """Protects: the rotate option, and that null removes the URL and the secret."""
    first = (await set_webhook(world.client, "https://hooks.example.com/a"))["slaWebhookSecret"]
    resp = await world.client.patch(
        f"/api/admin/products/{SLUG}", json={"rotateSlaWebhookSecret": True}, headers=ADMIN_HEADERS
    )
    assert resp.status == 200
    second = (await resp.json())["slaWebhookSecret"]
    assert second != first
    removed = await set_webhook(world.client, None)
    assert removed["slaWebhookUrl"] is None and "slaWebhookSecret" not in removed
    async with db.session() as session:
        row = (await session.scalars(select(Product))).one()
    assert row.sla_webhook_url is None and row.sla_webhook_secret is None
    resp = await world.client.patch(
        f"/api/admin/products/{SLUG}", json={"rotateSlaWebhookSecret": True}, headers=ADMIN_HEADERS
    )
    assert resp.status == 409  # well formed, but there is no webhook: nothing changes
    assert (await resp.json())["error"] == "No SLA webhook to rotate"


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # plain http off this machine
        "ftp://hooks.example.com/x",
        "https://user:pass@hooks.example.com/x",
        "https:///no-host",
        "https://hooks.example.com/" + "x" * 500,
        "not a url",
        "",
        42,
        "http://127.0.0.1:99999/x",
        "https://hooks.example.com/x\n",
        "https://hooks.example.com/ä",
        "http://[::1]/x",
    ],
)
async def test_bad_urls_are_refused_and_change_nothing(world, db, url):
    """Protects: only https (or http to this machine) is stored; a bad URL is a 400 with
    ``fields`` and stores nothing."""
    resp = await world.client.patch(
        f"/api/admin/products/{SLUG}", json={"slaWebhookUrl": url}, headers=ADMIN_HEADERS
    )
    assert resp.status == 400, await resp.text()
    body = await resp.json()
    assert set(body) >= {"error", "hint", "fields"} and "slaWebhookUrl" in body["fields"]
    async with db.session() as session:
        assert await session.scalar(select(Product.sla_webhook_url)) is None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "http://localhost/hook", "https://h.example/x?a=1"]
)
def test_loopback_http_and_any_https_are_accepted(url):
    """Protects: a receiver on this machine may use plain http."""
    assert sla_webhook.url_problem(url) is None


def test_a_secret_sealed_under_one_server_secret_is_unreadable_under_another():
    """Protects: a changed TINYDESK_SECRET_KEY gives a clear reason (the job gives up
    saying to rotate), not garbage signatures."""
    one = Settings(secret_key="k" * 32)
    sealed = sla_webhook.seal(one, "whsec_abc")
    assert sla_webhook.reveal(one, sealed) == "whsec_abc"
    with pytest.raises(sla_webhook.SecretUnreadable):
        sla_webhook.reveal(Settings(secret_key="j" * 32), sealed)
    assert sla_webhook.reveal(Settings(), sla_webhook.seal(Settings(), "s")) == "s"


def test_the_signature_is_stripe_style_over_timestamp_and_body():
    """Protects: the README's scheme, byte for byte: HMAC-SHA256 of "<timestamp>.<body>"."""
    body = b'{"id":"slaevt_1"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sla_alerts.signature("whsec_x", "1700000000", body) == f"sha256={expected}"
    headers = sla_alerts.signed_headers("whsec_x", "sla.breach", body, 1700000000.7)
    assert headers["X-TinyDesk-Timestamp"] == "1700000000"
    assert headers["X-TinyDesk-Event"] == "sla.breach"


@settings(max_examples=300, deadline=None)
@given(st.from_regex(sla_webhook.URL_PATTERN, fullmatch=True).filter(lambda u: len(u) <= 500))
def test_every_url_the_openapi_pattern_allows_is_accepted(url):
    """Protects: the OpenAPI document and the server agree (schemathesis sends what the
    pattern allows and expects it accepted)."""
    assert sla_webhook.url_problem(url) is None
    parts = urlsplit(url)
    assert parts.scheme in ("https", "http") and parts.hostname
    assert parts.username is None and parts.password is None
    assert parts.scheme == "https" or parts.hostname in ("127.0.0.1", "localhost")


async def test_a_ticket_that_cannot_be_swept_does_not_stop_the_others(
    world, desk, receiver, db, monkeypatch
):
    """Protects: one broken ticket (a bug in its rules) is logged and put off; the tickets
    behind it are still told, and the sweep ends."""
    broken = await urgent_ticket(world, desk)
    await urgent_ticket(world, desk)
    real = sla_alerts.alerts_due

    def alerts_due(policy, facts, now, *, finished=False):
        if facts.created_at == FRIDAY_1650 and not hasattr(alerts_due, "failed"):
            alerts_due.failed = True  # type: ignore[attr-defined]
            raise RuntimeError("a bug")
        return real(policy, facts, now, finished=finished)

    monkeypatch.setattr(sla_alerts, "alerts_due", alerts_due)
    assert await sweep(world, at(16, 50)) == 1
    async with db.session() as session:
        put_off = await session.scalar(
            select(Ticket.sla_alert_at).where(Ticket.desk_id == broken["id"])
        )
    assert put_off == at(16, 50) + sla_alerts.BROKEN_TICKET_WAIT
