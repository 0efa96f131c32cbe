"""Email out: what the submitter gets, read back from a real SMTP server (tests/mail_sink.py)
with the ``email`` package, as a mail client would."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import ssl
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from bot.config import Settings, mail_key
from bot.jobs.kinds import JobKind
from bot.jobs.worker import WORKERS
from bot.mail.outgoing.compose import REPLY_ABOVE
from bot.mail.outgoing.deliver import send_mail_handler
from bot.rules import mail_tokens
from storage.database import Database
from storage.models import Job, OutgoingMail, QueueState, Ticket
from storage.types import utcnow
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import bearer, create_ticket, make_key
from tests.mail_sink import MailSink

TICKETS = "/api/v1/desk/tickets"
SUBMITTER = "ada@example.com"


def mail_settings(sink: MailSink | None, **mail) -> Settings:
    base = Settings(
        admin_token=ADMIN_TOKEN, public_url="https://desk.example.test", run_workers=False
    )
    values = {
        "mail_from": "support@example.com",
        "from_name": "Example Support",
        "smtp_url": sink.url if sink else None,
        "coalesce_seconds": 0.0,
        **mail,
    }
    return dataclasses.replace(base, mail=dataclasses.replace(base.mail, **values))


@pytest.fixture
async def sink():
    async with MailSink() as running:
        yield running


async def drain(client) -> None:
    await client.app[WORKERS].drain()


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def tracking_link(text: str) -> str:
    [line] = [line for line in text.splitlines() if "/track/" in line]
    return line.strip()


async def due_now(db: Database) -> None:
    async with db.begin() as session:
        await session.execute(
            update(Job).where(Job.state == QueueState.PENDING).values(next_attempt_at=utcnow())
        )


async def test_intake_mail_threads_unsubscribes_and_links_the_ticket(make_client, sink):
    """The first mail: From, a signed Reply-To and Message-ID, Auto-Submitted, RFC 8058
    headers, text and HTML parts, a tracking link whose token opens the ticket."""
    settings = mail_settings(sink)
    client = await make_client(settings)
    key = await make_key(client)
    ticket = await create_ticket(client, key, email=SUBMITTER, subject="Login <fails>")
    await drain(client)
    [message] = sink.messages
    key_bytes = mail_key(settings)
    assert key_bytes is not None
    public_id = ticket["publicId"]
    assert message["To"] == SUBMITTER
    assert message["From"].addresses[0].addr_spec == "support@example.com"
    assert message["From"].addresses[0].display_name == "Example Support"
    assert message["Subject"] == f"[{public_id}] Login <fails>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert mail_tokens.ticket_of_message_id(key_bytes, message["Message-ID"]) == public_id
    reply_to = message["Reply-To"].addresses[0].addr_spec
    recipient = mail_tokens.read_recipient(key_bytes, "support@example.com", reply_to)
    assert recipient.kind == "ticket" and recipient.public_id == public_id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<https://desk.example.test/mail/unsubscribe/")
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert text.startswith(REPLY_ABOVE)
    assert mail_tokens.ticket_of_body(key_bytes, text) == public_id
    assert "Login &lt;fails&gt;" in html and "<fails>" not in html
    link = tracking_link(text)
    assert link.startswith(f"https://desk.example.test/track/{public_id}?token=")
    assert f'href="{link}"' in html
    # The link's token is the ticket's own: it shows the subject.
    view = await client.get(f"/api/tickets/{public_id}?{urlsplit(link).query}")
    assert (await view.json())["subject"] == "Login <fails>"


async def test_public_comments_are_mailed_in_the_thread_and_internal_notes_never(make_client, sink):
    settings = mail_settings(sink)
    client = await make_client(settings)
    key = await make_key(client)
    ticket = await create_ticket(client, key, email=SUBMITTER)
    await drain(client)
    [first] = sink.messages
    resp = await client.post(
        f"{TICKETS}/{ticket['id']}/comments",
        json={"body": "SECRET internal note", "internal": True},
        headers=bearer(key),
    )
    assert resp.status == 201, await resp.text()
    await drain(client)
    assert len(sink.messages) == 1
    resp = await client.post(
        f"{TICKETS}/{ticket['id']}/comments",
        json={"body": "We found the cause.\n\nA fix is coming."},
        headers=bearer(key),
    )
    assert resp.status == 201
    await drain(client)
    [_, second] = sink.messages
    assert second["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in second["References"]
    text, html = parts(second)
    assert "We found the cause." in text and "A fix is coming." in html
    for message in sink.messages:
        assert "SECRET" not in message.as_string()
    assert tracking_link(text) == tracking_link(parts(first)[0])


async def test_a_burst_of_steps_within_the_window_is_one_mail(make_client, sink, db):
    settings = mail_settings(sink, coalesce_seconds=60.0)
    client = await make_client(settings)
    key = await make_key(client)
    ticket = await create_ticket(client, key, email=SUBMITTER)
    await client.post(
        f"{TICKETS}/{ticket['id']}/comments", json={"body": "Looking now."}, headers=bearer(key)
    )
    resp = await client.patch(
        f"{TICKETS}/{ticket['id']}", json={"status": "closed"}, headers=bearer(key)
    )
    assert resp.status == 200, await resp.text()
    async with db.session() as session:
        jobs = (await session.scalars(select(Job).where(Job.kind == JobKind.SEND_MAIL))).all()
    assert len(jobs) == 1
    assert jobs[0].next_attempt_at > utcnow() + dt.timedelta(seconds=50)
    await drain(client)
    assert sink.messages == []  # not due yet
    await due_now(db)
    await drain(client)
    [message] = sink.messages
    text, _ = parts(message)
    assert "We've received your ticket." in text
    assert "Looking now." in text
    assert "Closed by support." in text


async def test_one_click_unsubscribe_stops_the_mail(make_client, sink):
    client = await make_client(mail_settings(sink))
    key = await make_key(client)
    ticket = await create_ticket(client, key, email=SUBMITTER)
    await drain(client)
    [message] = sink.messages
    url = urlsplit(message["List-Unsubscribe"].strip("<>"))
    page = await client.get(url.path)
    assert page.status == 200 and "Stop emails" in await page.text()
    # GET changed nothing: the next step is mailed.
    await client.post(
        f"{TICKETS}/{ticket['id']}/comments", json={"body": "One"}, headers=bearer(key)
    )
    await drain(client)
    assert len(sink.messages) == 2
    # What a mail client sends (RFC 8058): no cookie, no CSRF token.
    resp = await client.post(
        url.path,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 200
    await client.post(
        f"{TICKETS}/{ticket['id']}/comments", json={"body": "Two"}, headers=bearer(key)
    )
    await drain(client)
    assert len(sink.messages) == 2
    forged = url.path[:-3] + "aaa"
    assert (await client.post(forged, data="List-Unsubscribe=One-Click")).status == 404


async def test_email_updates_false_sends_nothing_until_the_page_asks(make_client, sink, db):
    client = await make_client(mail_settings(sink))
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app", "name": "My SaaS App"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert resp.status == 201
    resp = await client.post(
        "/api/tickets",
        json={
            "productSlug": "my-saas-app",
            "submitterEmail": SUBMITTER,
            "subject": "Quiet",
            "body": "No mail please",
            "emailUpdates": False,
        },
    )
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    await drain(client)
    assert sink.messages == []
    public_id, token = created["publicId"], created["trackingToken"]
    page = await client.get(f"/track/{public_id}?token={token}")
    assert "Email me updates" in await page.text()
    wrong = await client.post(
        f"/track/{public_id}/email-updates", data={"token": "x" * 30}, allow_redirects=False
    )
    assert wrong.status == 403
    resp = await client.post(
        f"/track/{public_id}/email-updates", data={"token": token}, allow_redirects=False
    )
    assert resp.status == 303
    page = await client.get(f"/track/{public_id}?token={token}&updates=on")
    text = await page.text()
    assert "Email me updates" not in text and "email you at each step" in text
    # The next step reaches the address the ticket was submitted with.
    async with db.session() as session:
        desk_id = await session.scalar(
            select(Ticket.desk_id).where(Ticket.id == int(public_id.removeprefix("TK-")))
        )
    key = await make_key(client)
    resp = await client.post(
        f"{TICKETS}/{desk_id}/comments", json={"body": "On it."}, headers=bearer(key)
    )
    assert resp.status == 201, await resp.text()
    await drain(client)
    [message] = sink.messages
    assert message["To"] == SUBMITTER and "On it." in parts(message)[0]


async def test_relay_451_is_retried_with_the_same_message_id(make_client, sink, db):
    client = await make_client(mail_settings(sink))
    key = await make_key(client)
    sink.reply = "451 4.3.0 try again later"
    await create_ticket(client, key, email=SUBMITTER)
    await drain(client)
    async with db.session() as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == JobKind.SEND_MAIL))).all()
        [mail] = (await session.scalars(select(OutgoingMail))).all()
    assert job.state == QueueState.PENDING and "451" in (job.last_error or "")
    assert mail.state == "pending"
    sink.reply = None
    await due_now(db)
    await drain(client)
    ids = {message["Message-ID"] for message in sink.messages}
    assert len(sink.messages) == 2 and ids == {mail.message_id}
    async with db.session() as session:
        [mail] = (await session.scalars(select(OutgoingMail))).all()
    assert mail.state == "sent"


async def test_relay_550_parks_the_job_with_the_answer(make_client, sink, db):
    client = await make_client(mail_settings(sink))
    key = await make_key(client)
    sink.reply = "550 5.1.1 no such user"
    await create_ticket(client, key, email=SUBMITTER)
    await drain(client)
    async with db.session() as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == JobKind.SEND_MAIL))).all()
        [mail] = (await session.scalars(select(OutgoingMail))).all()
    assert job.state == QueueState.FAILED and "550" in (job.last_error or "")
    assert mail.state == "failed" and "550" in (mail.error or "")


async def test_over_the_rate_limit_a_mail_waits_and_is_not_lost(make_client, sink, db):
    client = await make_client(mail_settings(sink, sends_per_address_per_hour=1))
    key = await make_key(client)
    await create_ticket(client, key, email=SUBMITTER, subject="First")
    await drain(client)
    await create_ticket(client, key, email=SUBMITTER, subject="Second")
    await drain(client)
    assert [m["Subject"].split("] ")[1] for m in sink.messages] == ["First"]
    async with db.session() as session:
        waiting = (
            await session.scalars(
                select(Job).where(Job.kind == JobKind.SEND_MAIL, Job.state == QueueState.PENDING)
            )
        ).all()
        pending = (
            await session.scalars(select(OutgoingMail).where(OutgoingMail.state == "pending"))
        ).all()
    assert len(waiting) == 1 and waiting[0].next_attempt_at > utcnow() + dt.timedelta(minutes=50)
    assert len(pending) == 1 and pending[0].subject.endswith("Second")


class TlsSink(MailSink):
    """A relay that offers STARTTLS with a certificate made for the test, and requires it."""

    def __init__(self, server_context: ssl.SSLContext, *, implicit: bool = False) -> None:
        # Not MailSink.__init__: its controller would own an event loop never closed.
        from aiosmtpd.controller import Controller

        from tests.mail_sink import _Recorder, free_port

        self.port = free_port()
        self.received = []
        self.changed = asyncio.Event()
        self.reply = None
        self._controller = Controller(
            _Recorder(self),
            hostname="127.0.0.1",
            port=self.port,
            **(
                {"ssl_context": server_context}
                if implicit
                else {"tls_context": server_context, "require_starttls": True}
            ),
        )


def self_signed(tmp_path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


async def test_starttls_is_used_when_the_relay_offers_it(make_client, db, tmp_path):
    server_context, client_context = self_signed(tmp_path)
    async with TlsSink(server_context) as tls_sink:
        settings = mail_settings(tls_sink)
        client = await make_client(settings)
        key = await make_key(client)
        await create_ticket(client, key, email=SUBMITTER)
        async with db.session() as session:
            [job] = (await session.scalars(select(Job).where(Job.kind == JobKind.SEND_MAIL))).all()
        # The relay refuses mail before STARTTLS: a message received went over TLS.
        await send_mail_handler(db, settings, tls_context=client_context)(job)
        [message] = tls_sink.messages
        assert message["To"] == SUBMITTER


async def test_closing_and_reopening_are_mailed_with_their_reason(make_client, sink, db):
    from bot.tickets import ticket_events
    from storage.models import StageTransition
    from storage.repos.tickets import TicketRepo

    client = await make_client(mail_settings(sink))
    key = await make_key(client)
    ticket = await create_ticket(client, key, email=SUBMITTER)
    await drain(client)
    resp = await client.patch(
        f"{TICKETS}/{ticket['id']}", json={"status": "closed"}, headers=bearer(key)
    )
    assert resp.status == 200, await resp.text()
    await drain(client)
    # A reopen comes from GitHub (the issue reopened): the step as the pipeline records it.
    async with db.begin() as session:
        row = await TicketRepo(session).by_number(int(ticket["publicId"].removeprefix("TK-")))
        assert row is not None
        step = StageTransition(
            ticket_id=row.id,
            from_stage="CLOSED",
            to_stage="ISSUE_CREATED",
            at=utcnow(),
            cause="issues.reopened",
            description="Issue reopened",
        )
        await TicketRepo(session).record_transition(step)
        await ticket_events.publish(
            session, ticket_events.TicketEvent(ticket_events.STAGE_CHANGED, row, transition=step)
        )
    await drain(client)
    _, closed, reopened = sink.messages
    assert "Closed by support." in parts(closed)[0]
    assert "reopened" in parts(reopened)[0]
    assert reopened["In-Reply-To"] == closed["Message-ID"]


async def test_a_mail_stored_before_a_crash_is_sent_once_with_its_message_id(make_client, sink, db):
    """The mail is stored, cursor moved, before the SMTP transaction: the process dying right
    then loses nothing, and the next run sends that very mail, not a second one."""
    from bot.mail.outgoing.deliver import compose_next
    from bot.mail.outgoing.queue import mail_out

    settings = mail_settings(sink)
    client = await make_client(settings)
    key = await make_key(client)
    ticket = await create_ticket(client, key, email=SUBMITTER)
    out = mail_out(settings)
    assert out is not None
    number = int(ticket["publicId"].removeprefix("TK-"))
    stored = await compose_next(db, out, number)  # ...and the process stops here
    assert stored is not None and sink.messages == []
    await drain(client)
    [message] = sink.messages
    assert message["Message-ID"] == stored.message_id
    async with db.session() as session:
        assert len((await session.scalars(select(OutgoingMail))).all()) == 1


async def test_the_form_says_it_emailed_the_link_and_the_mail_carries_it(make_client, sink):
    from tests.test_web_submit import GOOD, post_form

    client = await make_client(mail_settings(sink))
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app", "name": "My SaaS App"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert resp.status == 201
    resp = await post_form(client, GOOD)
    page = await resp.text()
    assert resp.status == 200 and "emailed you this link" in page
    await drain(client)
    [message] = sink.messages
    link = tracking_link(parts(message)[0])
    assert f'value="{link}"' in page.replace("&amp;", "&")


async def test_the_digest_goes_once_a_day_to_the_staff(make_client, sink, db):
    from bot.mail.outgoing import digest

    settings = mail_settings(sink, digest_to=("staff@example.com", "lead@example.com"))
    client = await make_client(settings)
    key = await make_key(client)
    await create_ticket(client, key, email=SUBMITTER, subject="Still open")
    await drain(client)
    sink.received.clear()
    day = digest.today()
    assert await digest.queue_digest(db, day)
    assert not await digest.queue_digest(db, day)  # another process, or a restart
    await drain(client)
    messages = sink.messages
    assert sorted(m["To"] for m in messages) == ["lead@example.com", "staff@example.com"]
    text = parts(messages[0])[0]
    assert "1 open tickets" in text and "Received: 1" in text
    assert messages[0]["Auto-Submitted"] == "auto-generated"


async def test_smtps_speaks_tls_from_the_first_byte(make_client, db, tmp_path):
    server_context, client_context = self_signed(tmp_path)
    async with TlsSink(server_context, implicit=True) as sink:
        settings = mail_settings(sink, smtp_url=f"smtps://127.0.0.1:{sink.port}")
        client = await make_client(settings)
        key = await make_key(client)
        await create_ticket(client, key, email=SUBMITTER)
        async with db.session() as session:
            [job] = (await session.scalars(select(Job).where(Job.kind == JobKind.SEND_MAIL))).all()
        await send_mail_handler(db, settings, tls_context=client_context)(job)
        [message] = sink.messages
        assert message["To"] == SUBMITTER


async def test_an_unreachable_relay_is_retried_and_its_password_never_shown(
    make_client, db, caplog
):
    from tests.mail_sink import free_port

    closed = free_port()
    settings = mail_settings(None, smtp_url=f"smtp://mailer:hunter2secret@127.0.0.1:{closed}")
    client = await make_client(settings)
    key = await make_key(client)
    await create_ticket(client, key, email=SUBMITTER)
    await drain(client)
    async with db.session() as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == JobKind.SEND_MAIL))).all()
        [mail] = (await session.scalars(select(OutgoingMail))).all()
    assert job.state == QueueState.PENDING and f"127.0.0.1:{closed}" in (job.last_error or "")
    assert mail.state == "pending"
    assert "hunter2secret" not in (job.last_error or "") + (mail.error or "") + caplog.text
    assert "hunter2secret" not in repr(settings)
