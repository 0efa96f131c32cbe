"""Mail in and mail out together, as a customer sees them: a message sent with smtplib to the
app's own listener opens a ticket; TinyDesk's answer (caught by a real SMTP sink) threads onto
the customer's message; replying to that answer adds to the ticket; the customer's
out-of-office reply to it is ignored and gets no answer (no mail loop)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from sqlalchemy import select

from bot.jobs.worker import WORKERS
from bot.mail.listener import MAIL_LISTENER
from storage.models import Comment, Job, MailMessage, Product, Ticket
from storage.repos.products import ProductRepo
from tests.mail_in_kit import MAIL_FROM, mail_settings
from tests.mail_sink import MailSink


def send(port: int, message: EmailMessage) -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        return smtp.send_message(message)


def customer_message(subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Grace Hopper <grace@customer.example>"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def test_a_mailed_ticket_is_answered_in_its_thread_and_replies_come_back(db, make_client):
    async with db.begin() as session:
        await ProductRepo(session).add(
            Product(slug="my-saas-app", name="My SaaS", repo_owner="octo-org", repo_name="app")
        )
    async with MailSink() as sink:
        settings = mail_settings(listen_port=0, smtp_url=sink.url, coalesce_seconds=0.0)
        client = await make_client(settings)
        port = client.server.app[MAIL_LISTENER].sockets[0].getsockname()[1]

        opening = customer_message(
            "Export button does nothing",
            "Clicking Export does nothing in Firefox.",
            To="support+my-saas-app@example.com",
            Message_ID="<first.1@customer.example>",
        )
        assert await asyncio.to_thread(send, port, opening) == {}
        await client.app[WORKERS].drain()
        answer = await sink.wait_for(lambda m: m["To"] == "grace@customer.example")

        # The answer continues the customer's own thread and invites a reply to the ticket.
        assert answer["In-Reply-To"] == "<first.1@customer.example>"
        assert "<first.1@customer.example>" in answer["References"]
        assert answer["Auto-Submitted"] == "auto-replied"
        reply_to = answer["Reply-To"].addresses[0].addr_spec
        assert reply_to.startswith("support+TK-00001.") and reply_to.endswith("@example.com")

        reply = customer_message(
            f"Re: {answer['Subject']}",
            "It happens in Chrome too.\n\nOn Wed, 2 Dec 2026, Support wrote:\n> earlier text",
            To=reply_to,
            Message_ID="<second.2@customer.example>",
            In_Reply_To=answer["Message-ID"],
            References=f"<first.1@customer.example> {answer['Message-ID']}",
        )
        out_of_office = customer_message(
            f"Automatic reply: {answer['Subject']}",
            "I am out of the office until Monday.",
            To=reply_to,
            Auto_Submitted="auto-replied",
            In_Reply_To=answer["Message-ID"],
        )
        await asyncio.to_thread(send, port, reply)
        await asyncio.to_thread(send, port, out_of_office)
        await client.app[WORKERS].drain()

        async with db.session() as session:
            tickets = (await session.scalars(select(Ticket))).all()
            comments = (await session.scalars(select(Comment))).all()
            decisions = (
                await session.scalars(select(MailMessage.decision).order_by(MailMessage.id))
            ).all()
            mail_jobs = (await session.scalars(select(Job).where(Job.kind == "send_mail"))).all()
        assert [t.source_type for t in tickets] == ["email"]
        assert [c.body for c in comments] == ["It happens in Chrome too."]
        assert not comments[0].internal
        assert decisions == ["ticket", "comment", "ignored"]
        # The submitter's own reply and the auto-reply send nothing back: one mail in all.
        assert len(sink.received) == 1
        assert all(job.state == "done" for job in mail_jobs)
        assert MAIL_FROM in answer["From"]
