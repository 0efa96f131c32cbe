"""The ``send_mail`` job: mail a submitter what happened to their ticket since their last mail.

In one transaction the handler takes the steps past the ticket's cursor, composes one mail of
them, stores it (Message-ID and all) and moves the cursor; only then does it talk to the
relay. A retry after a 4xx, a lost answer or a crash sends the stored mail again, with the
same Message-ID: delivery is at least once, and receivers (and their clients) fold copies
with one Message-ID into one. A 5xx parks the job with the relay's answer. A mail over the
per-address rate limit waits (a job due when the limit frees); nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from collections.abc import Awaitable, Callable

from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.jobs.outcomes import GiveUp, RetryLater
from bot.mail.outgoing import compose as composing
from bot.mail.outgoing.queue import MailOut, mail_out, reveal_token
from bot.mail.outgoing.send import Refused, Relay, Transient, parse_relay, send
from bot.rules import ids, mail_steps, mail_tokens
from bot.rules.mail_unsubscribe import unsubscribe_token
from storage.database import Database
from storage.models import Job, OutgoingMail, Ticket, TicketMail
from storage.repos.jobs import JobRepo
from storage.repos.mail import MailRepo
from storage.repos.mail_out import MailOutRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow

log = logging.getLogger(__name__)

COMMENT_HEADLINE = "New reply from support"


def tracking_link(settings: Settings, public_id: str, token: str | None) -> str:
    url = f"{settings.base_url()}/track/{public_id}"
    return f"{url}?token={token}" if token else url


def unsubscribe_link(out: MailOut, public_id: str) -> str:
    return f"{out.settings.base_url()}/mail/unsubscribe/{unsubscribe_token(out.key, public_id)}"


def mail_domain(out: MailOut) -> str:
    parts = mail_tokens.split_address(out.settings.mail.mail_from or "")
    return parts[1] if parts else "localhost"


async def compose_next(db: Database, out: MailOut, ticket_id: int) -> OutgoingMail | None:
    """The ticket's stored mail still to send, or a new one of the steps past its cursor
    (stored, the cursor moved past them); None: nothing to send."""
    async with db.begin() as session:
        repo = MailOutRepo(session)
        # Held first (PostgreSQL): two workers never compose the same steps twice.
        row = await repo.ticket_mail(ticket_id, hold=True)
        if row is None:
            return None
        pending = await repo.pending_mail(ticket_id)
        if pending is not None:
            return pending
        items = await repo.items_after(ticket_id, row.last_item_id)
        if not items:
            return None
        row.last_item_id = items[-1].id
        row.updated_at = utcnow()
        ticket = await TicketRepo(session).by_number(ticket_id)
        if not row.subscribed or ticket is None or ticket.deleted_at is not None:
            return None  # the steps are passed over, not kept for later
        transitions = await repo.transitions([i.transition_id for i in items if i.transition_id])
        comments = await repo.comments([i.comment_id for i in items if i.comment_id])
        steps: list[composing.Step] = []
        for item in items:
            if item.kind == mail_steps.CREATED:
                steps.append(composing.Step(mail_steps.RECEIVED_LINE, ticket.created_at))
            elif item.transition_id in transitions:
                t = transitions[item.transition_id]
                steps.append(
                    composing.Step(mail_steps.step_line(t.from_stage, t.to_stage, t.reason), t.at)
                )
            elif item.comment_id in comments:
                c = comments[item.comment_id]
                steps.append(
                    composing.Step(
                        COMMENT_HEADLINE,
                        c.created_at,
                        author=c.public_author or "Support team",
                        body=c.body,
                    )
                )
        if not steps:
            return None
        # A ticket opened by mail: its mails answer the message that opened it, so that the
        # submitter's client shows them in one thread with it.
        opening = None
        if ticket.source_type == "email":
            opening = await MailRepo(session).opening_message_id(ticket.id)
        mail = _stored_mail(out, ticket, row, steps, opening=opening)
        session.add(mail)
        row.first_message_id = row.first_message_id or mail.message_id
        row.last_message_id = mail.message_id
    log.info(
        "mail %s composed for ticket %s: %d steps",
        mail.id,
        ids.public_id(ticket_id),
        len(steps),
        extra={"ticket_id": ticket_id, "mail_id": mail.id},
    )
    return mail


def _stored_mail(
    out: MailOut,
    ticket: Ticket,
    row: TicketMail,
    steps: list[composing.Step],
    *,
    opening: str | None = None,
) -> OutgoingMail:
    settings = out.settings
    public_id = ids.public_id(ticket.id)
    first = row.first_message_id is None
    headline = steps[-1].line.rstrip(".") if steps[-1].body is None else COMMENT_HEADLINE
    draft = composing.Draft(
        public_id=public_id,
        subject=mail_steps.subject(public_id, ticket.subject, first=first, headline=headline),
        greeting_name=ticket.submitter_name,
        ticket_subject=ticket.subject,
        steps=steps,
        tracking_url=tracking_link(settings, public_id, reveal_token(out, row)),
        marker=mail_tokens.body_marker(out.key, public_id),
    )
    assert settings.mail.mail_from is not None
    message_id = mail_tokens.message_id(out.key, public_id, mail_domain(out))
    references = tuple(
        dict.fromkeys(
            mid for mid in (opening, row.first_message_id, row.last_message_id) if mid
        )
    )
    envelope = composing.Envelope(
        from_name=settings.mail.from_name,
        mail_from=settings.mail.mail_from,
        to_address=row.address,
        reply_to=mail_tokens.reply_address(out.key, settings.mail.mail_from, public_id),
        message_id=message_id,
        in_reply_to=row.last_message_id or opening,
        references=references,
        unsubscribe_url=unsubscribe_link(out, public_id),
    )
    now = utcnow()
    message = composing.compose(draft, envelope, now=now)
    return OutgoingMail(
        ticket_id=ticket.id,
        to_address=row.address,
        message_id=message_id,
        subject=draft.subject[:300],
        raw=message.as_string(),
        state="pending",
        attempts=0,
        created_at=now,
    )


async def deliver(
    db: Database,
    out: MailOut,
    relay: Relay,
    mail: OutgoingMail,
    *,
    tls_context: ssl.SSLContext | None = None,
    defer_kind: str = JobKind.SEND_MAIL,
    defer_args: dict | None = None,
) -> bool:
    """Send one stored mail; whether it went (False: it waits for the rate limit, a job due
    then is queued). Raises RetryLater (4xx, unreachable) or GiveUp (5xx)."""
    now = utcnow()
    async with db.begin() as session:
        repo = MailOutRepo(session)
        if mail.ticket_id is not None:
            row = await repo.ticket_mail(mail.ticket_id)
            if row is not None and not row.subscribed:
                stored = await repo.mail(mail.id)
                if stored is not None:
                    stored.state = "dropped"
                return True
        sent = await repo.sent_to_since(mail.to_address, now - mail_steps.RATE_WINDOW)
        wait = mail_steps.rate_limit_wait(sent, now, out.settings.mail.sends_per_address_per_hour)
        if wait is not None:
            await JobRepo(session).enqueue(
                defer_kind,
                defer_args or {"ticket_id": mail.ticket_id},
                dedupe_key=f"mail:{mail.ticket_id}" if mail.ticket_id else None,
                run_at=now + wait,
            )
            log.info(
                "mail %s waits %d s: its address had %d mails this hour",
                mail.id,
                wait.total_seconds(),
                len(sent),
                extra={"mail_id": mail.id},
            )
            return False
    assert out.settings.mail.mail_from is not None
    error: str | None = None
    try:
        await send(
            relay,
            mail.raw.encode("ascii", errors="surrogateescape"),
            sender=out.settings.mail.mail_from,
            recipient=mail.to_address,
            tls_context=tls_context,
        )
    except Transient as exc:
        error = str(exc)
        await _record(db, mail.id, state="pending", error=error)
        raise RetryLater(error) from None
    except Refused as exc:
        error = str(exc)
        await _record(db, mail.id, state="failed", error=error)
        raise GiveUp(f"{error}; the mail is kept (outgoing mail {mail.id})") from None
    await _record(db, mail.id, state="sent", error=None, sent_at=utcnow())
    log.info("mail %s sent", mail.id, extra={"mail_id": mail.id, "ticket_id": mail.ticket_id})
    return True


async def _record(
    db: Database, mail_id: int, *, state: str, error: str | None, sent_at: dt.datetime | None = None
) -> None:
    async with db.begin() as session:
        stored = await MailOutRepo(session).mail(mail_id)
        if stored is None:
            return
        stored.state = state
        stored.error = error
        stored.attempts += 1
        if sent_at is not None:
            stored.sent_at = sent_at


def send_mail_handler(
    db: Database, settings: Settings, *, tls_context: ssl.SSLContext | None = None
) -> Callable[[Job], Awaitable[None]]:
    """The notification worker's handler for ``send_mail`` jobs. ``tls_context``: tests
    trust their own relay's certificate with it; production uses the system's trust store."""
    out = mail_out(settings)
    relay = parse_relay(settings.mail.smtp_url) if out and settings.mail.smtp_url else None

    async def send_mail(job: Job) -> None:
        if out is None or relay is None:
            return  # mail was turned off since the job was queued
        ticket_id = int(job.args["ticket_id"])
        while (mail := await compose_next(db, out, ticket_id)) is not None:
            if not await deliver(db, out, relay, mail, tls_context=tls_context):
                return

    return send_mail
