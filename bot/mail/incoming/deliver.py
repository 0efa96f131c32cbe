"""Delivering one incoming message to the desk: ignore what is automatic, thread a reply onto
its ticket (a public comment from the submitter, reopening a recently finished ticket), or
open a new ticket; keep its attachments; and record the decision, once per Message-ID.

Decisions (``Outcome.decision``) and their reasons, each logged and stored in mail_messages:

- ``ignored``: automatic mail (bot.rules.mail_loops reasons), or no usable From address;
- ``refused``: no product to file it under (the base address with several products, or an
  unknown plus-address slug): nothing is opened and nothing is answered;
- ``comment``: threaded (bot.rules.mail_threading reasons); ``reopened`` in the log extra;
- ``ticket``: a new ticket (``new``, ``subject-stranger`` when the subject named a ticket the
  sender is not the submitter of, ``reopen-window-passed`` when the reply came too late);
- ``duplicate``: the same Message-ID was delivered before (an MTA retry): nothing again.

A stranger replying with a genuine token (a CC'd colleague: the token proves they got our
mail) is accepted as a comment; the comment's author is their address, not the submitter's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings, mail_key
from bot.mail.incoming.parse import Attachment as MailAttachment
from bot.mail.incoming.parse import IncomingMessage, parse
from bot.rules import ids, mail_attachments, mail_limits, mail_threading
from bot.rules.desk_status import FINISHED, DeskStatus, staff_status_change
from bot.rules.mail_loops import loop_reason
from bot.rules.mail_quotes import strip_quoted
from bot.rules.mail_tokens import read_recipient
from bot.rules.validation import is_email
from bot.tickets import sla_clock, ticket_events
from bot.tickets.attachments import attachment_row
from bot.tickets.intake import open_ticket
from storage.database import Database
from storage.models import Comment, MailMessage, Product, Ticket
from storage.repos.desk import DeskRepo
from storage.repos.mail import MailRepo
from storage.repos.products import ProductRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow

log = logging.getLogger(__name__)

TINYDESK_AUTHOR = "TinyDesk"
FOLLOW_UP_NOTE = "[Follow-up to {public_id}, finished more than {days} days ago.]\n\n"


class MailNotConfigured(RuntimeError):
    """TINYDESK_MAIL_FROM (or the server secret the tokens are signed with) is not set."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    decision: str
    reason: str
    public_id: str | None = None


@dataclasses.dataclass(frozen=True)
class _Context:
    key: bytes
    mail_from: str
    reopen_days: int
    now: dt.datetime


async def deliver(
    db: Database,
    settings: Settings,
    raw: bytes,
    *,
    sender: str | None = None,
    recipients: tuple[str, ...] = (),
    now: dt.datetime | None = None,
) -> Outcome:
    """Work one message as received (``sender``: the envelope's MAIL FROM, ``""`` for ``<>``;
    ``recipients``: its RCPT TOs). Raises parse.Unparsable for what is not a message, and
    lets storage errors through (the caller answers "try again later")."""
    key, mail_from = mail_key(settings), settings.mail.mail_from
    if key is None or mail_from is None:
        raise MailNotConfigured("set TINYDESK_MAIL_FROM and TINYDESK_SECRET_KEY (or ADMIN_TOKEN)")
    message = parse(raw, envelope_recipients=recipients)
    ctx = _Context(key, mail_from, settings.mail.reopen_days, now or utcnow())
    try:
        async with db.begin() as session:
            if await MailRepo(session).seen(message.message_id) is not None:
                outcome = Outcome("duplicate", "message-id-seen")
            else:
                outcome = await _decide(session, ctx, message, sender)
    except IntegrityError:
        # The same message, delivered twice at once: the other delivery stored it.
        async with db.session() as session:
            if await MailRepo(session).seen(message.message_id) is None:
                raise
        outcome = Outcome("duplicate", "message-id-seen")
    log.info(
        "mail in: %s (%s)",
        outcome.decision,
        outcome.reason,
        extra={
            "ticket": outcome.public_id,
            "decision": outcome.decision,
            "reason": outcome.reason,
            "message_id": message.message_id,
        },
    )
    return outcome


async def _decide(
    session: AsyncSession, ctx: _Context, message: IncomingMessage, sender: str | None
) -> Outcome:
    automatic = loop_reason(message.message, sender=sender, from_address=message.from_address)
    if automatic is not None:
        return await _record(session, ctx, message, Outcome("ignored", automatic))
    if message.from_address is None or not is_email(message.from_address):
        return await _record(session, ctx, message, Outcome("ignored", "no-from-address"))
    if read_recipient(ctx.key, ctx.mail_from, message.from_address).kind != "foreign":
        return await _record(session, ctx, message, Outcome("ignored", "from-ourselves"))
    found = mail_threading.find_ticket(
        ctx.key,
        mail_from=ctx.mail_from,
        in_reply_to=message.in_reply_to,
        references=message.references,
        recipients=message.recipients,
        body=message.text,
        subject=message.subject,
    )
    for clue in found.forged:
        log.warning(
            "mail in: a %s token did not check out; not trusted",
            clue,
            extra={"reason": f"forged-{clue}", "message_id": message.message_id},
        )
    ticket, reason = await _threaded_ticket(session, message, found)
    follow_up_of = None
    if ticket is not None and reason is not None:
        finished = mail_limits.finished_at(
            ticket.resolved_at, ticket.staff_closed_at, ticket.updated_at
        )
        reopens = mail_limits.reply_reopens(ticket.status, finished, ctx.now, ctx.reopen_days)
        if reopens is False:
            follow_up_of, ticket, reason = ids.public_id(ticket.id), None, "reopen-window-passed"
        else:
            return await _comment(session, ctx, message, ticket, reason)
    return await _new_ticket(session, ctx, message, reason or "new", follow_up_of)


async def _threaded_ticket(
    session: AsyncSession, message: IncomingMessage, found: mail_threading.Threading
) -> tuple[Ticket | None, str | None]:
    """The ticket a reply belongs to and why; (None, a reason) for a new ticket that says why
    it is not threaded, (None, None) for plain new mail."""
    repo = TicketRepo(session)
    if found.public_id is not None:
        number = ids.parse_public_id(found.public_id)
        ticket = await repo.by_number(number, include_deleted=False) if number else None
        return (ticket, found.reason) if ticket is not None else (None, "ticket-gone")
    if found.subject_candidate is not None:
        number = ids.parse_public_id(found.subject_candidate)
        ticket = await repo.by_number(number, include_deleted=False) if number else None
        if ticket is not None and mail_threading.same_address(
            ticket.submitter_email, message.from_address
        ):
            return ticket, mail_threading.SUBJECT_SUBMITTER
        return None, "subject-stranger"
    return None, None


async def _comment(
    session: AsyncSession, ctx: _Context, message: IncomingMessage, ticket: Ticket, reason: str
) -> Outcome:
    """The reply as a public comment by its sender; a finished or pending ticket is open again."""
    assert message.from_address is not None
    body = mail_limits.fit_body(strip_quoted(message.text))
    comment = Comment(
        desk_id=ids.new_desk_id("cmt"),
        ticket_id=ticket.id,
        body=body,
        internal=False,
        author=message.from_address[:200],
        public_author=(message.from_name or message.from_address)[:100],
        created_at=ctx.now,
    )
    await DeskRepo(session).add_comment(comment)
    reopened = ticket.status in FINISHED
    if ticket.status != DeskStatus.OPEN.value:  # finished, or pending on this very answer
        # As staff setting the status to open would (the SLA's cycles and pauses agree).
        change = staff_status_change(
            current_status=ticket.status,
            current_stage=ticket.stage,
            resolved_at=ticket.resolved_at,
            new_status=DeskStatus.OPEN.value,
            now=ctx.now,
        )
        old_status = ticket.status
        ticket.status, ticket.resolved_at = change.status, change.resolved_at
        await sla_clock.status_changed(session, ticket, old_status, by_staff=False, now=ctx.now)
    ticket.updated_at = ctx.now
    await ticket_events.publish(
        session,
        ticket_events.TicketEvent(
            ticket_events.COMMENT_ADDED, ticket, comment=comment, by_submitter=True
        ),
    )
    await _keep_attachments(session, ctx, message.attachments, ticket, comment)
    await session.flush()
    outcome = Outcome("comment", reason, ids.public_id(ticket.id))
    if reopened:
        log.info(
            "mail in: a reply reopened the ticket",
            extra={"ticket": outcome.public_id, "reason": "reopened"},
        )
    return await _record(session, ctx, message, outcome, ticket.id, comment.id)


async def _product(
    session: AsyncSession, ctx: _Context, recipients: tuple[str, ...]
) -> tuple[Product | None, str]:
    """The product a new message is filed under, or None and why not."""
    repo, mail = ProductRepo(session), MailRepo(session)
    unknown_slug = False
    for address in recipients:
        product = await mail.product_by_address(address)
        if product is not None:
            return product, "product-address"
        recipient = read_recipient(ctx.key, ctx.mail_from, address)
        if recipient.kind == "product" and recipient.product_slug:
            product = await repo.by_slug(recipient.product_slug)
            if product is not None:
                return product, "plus-address"
            unknown_slug = True
    if unknown_slug:
        return None, "unknown-product"
    products = await repo.all()
    if len(products) == 1:
        return products[0], "only-product"
    return None, "no-product" if products else "no-products"


async def _new_ticket(
    session: AsyncSession,
    ctx: _Context,
    message: IncomingMessage,
    reason: str,
    follow_up_of: str | None,
) -> Outcome:
    assert message.from_address is not None
    product, why = await _product(session, ctx, message.recipients)
    if product is None:
        return await _record(session, ctx, message, Outcome("refused", why))
    text = message.text
    if follow_up_of is not None:
        text = FOLLOW_UP_NOTE.format(public_id=follow_up_of, days=ctx.reopen_days) + text
    opened = await open_ticket(
        session,
        product=product,
        subject=mail_limits.fit_subject(message.subject),
        body=mail_limits.fit_body(text),
        email=message.from_address,
        submitter_name=mail_limits.fit_name(message.from_name),
        source_type="email",
        now=ctx.now,
    )
    ticket = opened.ticket
    await _keep_attachments(session, ctx, message.attachments, ticket, None)
    outcome = Outcome("ticket", reason, ids.public_id(ticket.id))
    return await _record(session, ctx, message, outcome, ticket.id)


async def _keep_attachments(
    session: AsyncSession,
    ctx: _Context,
    attachments: tuple[MailAttachment, ...],
    ticket: Ticket,
    comment: Comment | None,
) -> None:
    """Store what may be kept; name what may not in one public comment by TinyDesk."""
    repo, refused = MailRepo(session), []
    for position, attachment in enumerate(attachments):
        filename = mail_attachments.safe_filename(attachment.filename)
        verdict = mail_attachments.judge(
            filename,
            attachment.content_type,
            len(attachment.data),
            attachment.data[:16],
            position=position,
        )
        if verdict.content_type is None:
            refused.append((filename, verdict.refusal or mail_attachments.TYPE_REFUSED))
            continue
        await repo.add_attachment(
            attachment_row(
                ticket.id,
                filename,
                verdict.content_type,
                attachment.data,
                now=ctx.now,
                comment_id=comment.id if comment is not None else None,
            )
        )
    if not refused:
        return
    note = Comment(
        desk_id=ids.new_desk_id("cmt"),
        ticket_id=ticket.id,
        body=mail_attachments.refusal_note(refused),
        internal=False,
        author=TINYDESK_AUTHOR,
        public_author=TINYDESK_AUTHOR,
        created_at=ctx.now,
    )
    await DeskRepo(session).add_comment(note)
    await ticket_events.publish(
        session, ticket_events.TicketEvent(ticket_events.COMMENT_ADDED, ticket, comment=note)
    )


async def _record(
    session: AsyncSession,
    ctx: _Context,
    message: IncomingMessage,
    outcome: Outcome,
    ticket_id: int | None = None,
    comment_id: int | None = None,
) -> Outcome:
    await MailRepo(session).record(
        MailMessage(
            direction="in",
            message_id=message.message_id,
            ticket_id=ticket_id,
            comment_id=comment_id,
            from_address=(message.from_address or "")[:320] or None,
            decision=outcome.decision,
            reason=outcome.reason,
            received_at=ctx.now,
        )
    )
    return outcome
