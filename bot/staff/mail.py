"""Mailing a staff member their link (an invitation, or a password reset they asked for) when
TinyDesk sends mail: stored in the outbox with the change that made the link, then sent by the
notification worker through the relay (bot.mail.outgoing.deliver), as every mail is."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.mail.outgoing.compose import sender_address
from bot.mail.outgoing.deliver import deliver, mail_domain
from bot.mail.outgoing.queue import mail_out
from bot.mail.outgoing.send import parse_relay
from bot.rules import staff as rules
from storage.database import Database
from storage.models import Job, OutgoingMail, StaffAccount
from storage.repos.jobs import JobRepo
from storage.types import utcnow

INVITE, RESET = "invite", "reset"
SUBJECTS = {INVITE: "You are invited to TinyDesk", RESET: "Reset your TinyDesk password"}


def _text(kind: str, account: StaffAccount, link: str) -> tuple[str, str]:
    if kind == INVITE:
        lead = (
            f"Hello {account.display_name},\n\nYou have been invited to the support workspace "
            f"as {account.role}. Choose your password here:"
        )
    else:
        lead = (
            f"Hello {account.display_name},\n\nSomeone (we hope you) asked to reset your "
            "password. Choose a new one here:"
        )
    tail = (
        f"The link works once, for {rules.INVITE_DAYS} days. If you did not expect this mail, "
        "ignore it: nothing changes until the link is used."
    )
    text = f"{lead}\n\n{link}\n\n{tail}\n"
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in lead.split("\n\n"))
    html = f'{paragraphs}<p><a href="{escape(link)}">{escape(link)}</a></p><p>{escape(tail)}</p>'
    return text, html


async def queue_link_mail(
    session: AsyncSession, settings: Settings, account: StaffAccount, link: str, kind: str
) -> bool:
    """Store the mail and its job in the caller's transaction; False when no mail is sent."""
    out = mail_out(settings)
    if out is None or settings.mail.mail_from is None:
        return False
    message = EmailMessage()
    message["From"] = sender_address(settings.mail.from_name, settings.mail.mail_from)
    message["To"] = account.email
    message["Subject"] = SUBJECTS[kind]
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<td.staff.{secrets.token_hex(12)}@{mail_domain(out)}>"
    message["Auto-Submitted"] = "auto-generated"
    text, html = _text(kind, account, link)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    mail = OutgoingMail(
        ticket_id=None,
        to_address=account.email,
        message_id=str(message["Message-ID"]),
        subject=SUBJECTS[kind],
        raw=message.as_string(),
        state="pending",
        attempts=0,
        created_at=utcnow(),
    )
    session.add(mail)
    await session.flush()
    await JobRepo(session).enqueue(JobKind.STAFF_MAIL, {"mail_id": mail.id})
    return True


def staff_mail_handler(db: Database, settings: Settings) -> Callable[[Job], Awaitable[None]]:
    out = mail_out(settings)
    relay = parse_relay(settings.mail.smtp_url) if out and settings.mail.smtp_url else None

    async def staff_mail(job: Job) -> None:
        if out is None or relay is None:
            return
        async with db.session() as session:
            mail = await session.get(OutgoingMail, int(job.args["mail_id"]))
        if mail is None or mail.state != "pending":
            return
        await deliver(
            db, out, relay, mail, defer_kind=JobKind.STAFF_MAIL, defer_args=dict(job.args)
        )

    return staff_mail
