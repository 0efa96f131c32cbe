"""The staff's daily digest (``TINYDESK_MAIL_DIGEST_TO``): open tickets by stage, and the
SLA breaches among them, one mail a day.

A process with workers looks every hour whether today's (UTC) digest is due; the
``mail_digests`` row for the day, inserted or ignored, makes one process the one that queues
it. ``tinydesk mail digest --now`` sends one at once, whether or not today's went out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import func, select

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.jobs.worker import notify_workers
from bot.mail.outgoing.compose import sender_address
from bot.mail.outgoing.deliver import deliver, mail_domain
from bot.mail.outgoing.queue import MailOut, mail_out
from bot.mail.outgoing.send import parse_relay
from bot.rules import ids
from bot.rules.desk_status import FINISHED
from bot.rules.pipeline import STAGE_TITLES, STAGES
from bot.web.html import fragment, join
from storage.database import Database
from storage.models import Job, OutgoingMail, Ticket
from storage.repos.jobs import JobRepo
from storage.repos.mail_out import MailOutRepo
from storage.types import utcnow

log = logging.getLogger(__name__)

CHECK_SECONDS = 3600.0
MAX_LISTED_BREACHES = 50


async def queue_digest(db: Database, day: str, *, once_a_day: bool = True) -> bool:
    """Queue the digest of ``day``; with ``once_a_day``, only if no process did today."""
    async with db.begin() as session:
        if once_a_day and not await MailOutRepo(session).claim_digest_day(day):
            return False
        await JobRepo(session).enqueue(
            JobKind.MAIL_DIGEST, {"day": day, "at": utcnow().isoformat()}
        )
    return True


async def digest_periodically(app: web.Application) -> None:
    settings = app[SETTINGS]
    if not settings.mail.digest_to or mail_out(settings) is None:
        return
    while True:
        try:
            if await queue_digest(app[DB], app[CLOCK]().date().isoformat()):
                notify_workers(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("could not queue the mail digest; will try again", exc_info=True)
        await asyncio.sleep(CHECK_SECONDS)


async def digest_text(db: Database, settings: Settings, day: str) -> tuple[str, str, str]:
    """(subject, text, html) of the digest."""
    async with db.session() as session:
        open_tickets = Ticket.status.not_in(FINISHED) & Ticket.deleted_at.is_(None)
        by_stage = dict(
            (
                await session.execute(
                    select(Ticket.stage, func.count()).where(open_tickets).group_by(Ticket.stage)
                )
            ).all()
        )
        breaches = (
            await session.execute(
                select(Ticket.id, Ticket.subject, Ticket.sla_breach_at)
                .where(open_tickets, Ticket.sla_breach_at.is_not(None))
                .order_by(Ticket.sla_breach_at)
                .limit(MAX_LISTED_BREACHES)
            )
        ).all()
    total = sum(by_stage.values())
    base = settings.base_url()
    lines = [f"TinyDesk digest for {day}: {total} open tickets", ""]
    stage_rows = [(STAGE_TITLES[s], by_stage.get(s.value, 0)) for s in STAGES]
    lines += [f"  {title}: {count}" for title, count in stage_rows if count]
    lines += ["", f"SLA breaches among them: {len(breaches)}"]
    lines += [
        f"  {ids.public_id(number)} {subject} ({base}/admin/tickets/{ids.public_id(number)})"
        for number, subject, _ in breaches
    ]
    html = fragment(
        "<h1>TinyDesk digest for {day}</h1><p>{total} open tickets</p><ul>{stages}</ul>"
        "<h2>SLA breaches: {count}</h2><ul>{breaches}</ul>",
        day=day,
        total=total,
        stages=join(
            fragment("<li>{title}: {count}</li>", title=t, count=c) for t, c in stage_rows if c
        ),
        count=len(breaches),
        breaches=join(
            fragment(
                '<li><a href="{url}">{public_id}</a> {subject}</li>',
                url=f"{base}/admin/tickets/{ids.public_id(n)}",
                public_id=ids.public_id(n),
                subject=s,
            )
            for n, s, _ in breaches
        ),
    )
    return (
        f"TinyDesk digest {day}: {total} open, {len(breaches)} SLA breaches",
        "\n".join(lines),
        html,
    )


async def store_digest(db: Database, out: MailOut, day: str, stamp: str) -> list[OutgoingMail]:
    """One stored mail per staff address; Message-IDs are fixed by ``day`` and ``stamp`` (the
    queueing instant), so a retried job finds what it stored instead of writing it again."""
    from email.message import EmailMessage
    from email.utils import format_datetime

    settings = out.settings
    subject, text, html = await digest_text(db, settings, day)
    mails = []
    async with db.begin() as session:
        for index, address in enumerate(settings.mail.digest_to):
            token = "".join(ch for ch in stamp if ch.isalnum())
            message_id = f"<td.digest.{day}.{token}.{index}@{mail_domain(out)}>"
            existing = await session.scalar(
                select(OutgoingMail).where(OutgoingMail.message_id == message_id)
            )
            if existing is not None:
                if existing.state == "pending":
                    mails.append(existing)
                continue
            message = EmailMessage()
            message["From"] = sender_address(settings.mail.from_name, settings.mail.mail_from or "")
            message["To"] = address
            message["Subject"] = subject
            message["Date"] = format_datetime(utcnow())
            message["Message-ID"] = message_id
            message["Auto-Submitted"] = "auto-generated"
            message.set_content(text)
            message.add_alternative(html, subtype="html")
            mail = OutgoingMail(
                ticket_id=None,
                to_address=address,
                message_id=message_id,
                subject=subject[:300],
                raw=message.as_string(),
                state="pending",
                attempts=0,
                created_at=utcnow(),
            )
            session.add(mail)
            mails.append(mail)
    return mails


def digest_handler(db: Database, settings: Settings) -> Callable[[Job], Awaitable[None]]:
    out = mail_out(settings)
    relay = parse_relay(settings.mail.smtp_url) if out and settings.mail.smtp_url else None

    async def mail_digest(job: Job) -> None:
        if out is None or relay is None or not settings.mail.digest_to:
            return
        day, stamp = str(job.args["day"]), str(job.args.get("at", ""))
        for mail in await store_digest(db, out, day, stamp):
            await deliver(
                db, out, relay, mail, defer_kind=JobKind.MAIL_DIGEST, defer_args=dict(job.args)
            )

    return mail_digest


def today(now: dt.datetime | None = None) -> str:
    return (now or utcnow()).astimezone(dt.UTC).date().isoformat()
