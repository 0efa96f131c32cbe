"""The ticket-events listener for mail out: record each step worth mailing and queue one
``send_mail`` job per ticket, due a coalescing window later (a burst of steps is one mail).

Listeners see only the session, so a process that sends mail registers its mail settings
for its engine at start (``enable``, done by ``bot.app``); a process that does not (mail not
configured, a test without the app) queues nothing. The tracking token is known only at
intake: it is kept, encrypted under the server secret, on the ticket's ``ticket_mail`` row,
so that every mail carries the full tracking link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import weakref

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.config import Settings, mail_key
from bot.jobs.kinds import JobKind
from bot.rules import mail_steps
from bot.tickets.ticket_event import COMMENT_ADDED, CREATED, STAGE_CHANGED, TicketEvent
from storage.models import MailItem, Ticket, TicketMail
from storage.repos.jobs import JobRepo
from storage.types import utcnow

TOKEN_INFO = b"tinydesk mail tracking token v1"


@dataclasses.dataclass(frozen=True)
class MailOut:
    settings: Settings
    key: bytes
    token_cipher: Fernet

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.settings.mail.coalesce_seconds)


_ENABLED: weakref.WeakKeyDictionary[AsyncEngine, MailOut] = weakref.WeakKeyDictionary()


def mail_out(settings: Settings) -> MailOut | None:
    """What sending needs, or None when mail is not sent (unset, or no server secret)."""
    from bot.github.stored_app import cipher, server_secret

    key, secret = mail_key(settings), server_secret(settings)
    if not settings.mail.sending or key is None or secret is None:
        return None
    return MailOut(settings, key, cipher(secret, TOKEN_INFO))


def enable(engine: AsyncEngine, settings: Settings) -> MailOut | None:
    out = mail_out(settings)
    if out is not None:
        _ENABLED[engine] = out
    return out


def disable(engine: AsyncEngine) -> None:
    _ENABLED.pop(engine, None)


def enabled_for(session: AsyncSession) -> MailOut | None:
    bind = session.bind
    return _ENABLED.get(bind) if isinstance(bind, AsyncEngine) else None


def reveal_token(out: MailOut, row: TicketMail) -> str | None:
    if row.token_encrypted is None:
        return None
    try:
        return out.token_cipher.decrypt(row.token_encrypted.encode()).decode()
    except InvalidToken:
        return None  # the server secret changed: links without the token


async def ticket_mail(session: AsyncSession, ticket: Ticket) -> TicketMail:
    """The ticket's mail row, made on first need (tickets from before mail was on get one
    without a token: their mails link the tracking page without it)."""
    row = await session.get(TicketMail, ticket.id)
    if row is None:
        row = TicketMail(
            ticket_id=ticket.id,
            address=ticket.submitter_email,
            subscribed=True,
            last_item_id=0,
            updated_at=utcnow(),
        )
        session.add(row)
    return row


async def queue_mail_for_step(session: AsyncSession, event: TicketEvent) -> None:
    """The listener (``bot.tickets.ticket_events.listeners``)."""
    out = enabled_for(session)
    ticket = event.ticket
    if out is None or ticket.is_test or not ticket.submitter_email:
        return
    if event.kind == CREATED:
        row = TicketMail(
            ticket_id=ticket.id,
            address=ticket.submitter_email,
            subscribed=event.email_updates,
            token_encrypted=out.token_cipher.encrypt(event.tracking_token.encode()).decode()
            if event.tracking_token
            else None,
            last_item_id=0,
            updated_at=utcnow(),
        )
        session.add(row)
        item = MailItem(ticket_id=ticket.id, kind=mail_steps.CREATED)
    elif event.kind == STAGE_CHANGED and event.transition is not None:
        transition = event.transition
        if not mail_steps.step_is_mailed(transition.from_stage, transition.to_stage):
            return
        row = await ticket_mail(session, ticket)
        item = MailItem(ticket_id=ticket.id, kind=mail_steps.STAGE, transition_id=transition.id)
    elif event.kind == COMMENT_ADDED and event.comment is not None:
        if event.by_submitter or event.comment.internal:
            return
        row = await ticket_mail(session, ticket)
        item = MailItem(ticket_id=ticket.id, kind=mail_steps.COMMENT, comment_id=event.comment.id)
    else:
        return
    if not row.subscribed:
        return
    now = utcnow()
    item.created_at = now
    session.add(item)
    await session.flush()
    await JobRepo(session).enqueue(
        JobKind.SEND_MAIL,
        {"ticket_id": ticket.id},
        dedupe_key=f"mail:{ticket.id}",
        run_at=now + out.window,
    )
