"""Merging a duplicate ticket into another (``bot.rules.merge`` says what is refused and the
words): for the ticket page and ``POST /api/v1/desk/tickets/{id}/merge`` alike, as the
caller, through the desk's own use cases (comments, the status change to closed), so the
history, the notifications and the audit entries are the usual ones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules import audit as audit_rules
from bot.rules import ids
from bot.rules import merge as rules
from bot.rules.desk_status import DeskStatus
from bot.rules.pipeline import ClosedReason
from bot.tickets import audit, desk, transitions
from bot.tickets.apikeys import KeyScope
from storage.models import Ticket
from storage.repos.audit import TicketAuditRepo
from storage.repos.desk import DeskRepo


async def merged_into(session: AsyncSession, ticket: Ticket) -> str | None:
    """The publicId the ticket was merged into, if it was."""
    entry = await TicketAuditRepo(session).latest(ticket.id, "merged_into")
    return entry.new_value if entry is not None else None


async def _side(session: AsyncSession, ticket: Ticket) -> rules.Side:
    return rules.Side(
        public_id=ids.public_id(ticket.id),
        tenant_id=ticket.tenant_id,
        product_id=ticket.product_id,
        status=ticket.status,
        merged_into=await merged_into(session, ticket),
    )


async def merge_ticket(
    session: AsyncSession, scope: KeyScope, duplicate: Ticket, into: str, now: dt.datetime
) -> Ticket:
    """Merge ``duplicate`` (found by the caller, in scope) into the ticket ``into`` names
    (publicId or desk id; one outside the caller's scope is as one that does not exist);
    returns the target."""
    try:
        target = await desk.find_ticket(session, scope, into)
    except ApiError as exc:
        if exc.status != 404:
            raise
        missing = rules.target_not_found(into)
        raise ApiError(
            missing.status, missing.error, missing.hint, fields={"into": "no such ticket"}
        ) from None
    refused = rules.refusal(await _side(session, duplicate), await _side(session, target))
    if refused is not None:
        raise ApiError(refused.status, refused.error, refused.hint)
    actor = audit.Actor.of(scope)
    source, destination = ids.public_id(duplicate.id), ids.public_id(target.id)
    said = [
        rules.Said(c.author, c.created_at, c.internal, c.body)
        for c in await DeskRepo(session).comments(duplicate.id)
    ]
    note = rules.conversation_note(
        source, duplicate.subject, duplicate.submitter_email, duplicate.body, said
    )
    await desk.add_comment(session, scope, target, note, True, now)
    await desk.add_comment(session, scope, duplicate, rules.public_reply(destination), False, now)
    await desk.add_comment(
        session, scope, duplicate, rules.duplicate_note(destination, actor.name), True, now
    )
    cause = transitions.Cause(
        rules.MERGE_CAUSE,
        actor=scope.name,
        closed_text=rules.history_text(destination),
        closed_reason=ClosedReason.DUPLICATE,
    )
    await desk.update_ticket(
        session, scope, duplicate, {"status": DeskStatus.CLOSED.value}, now, closing_cause=cause
    )
    await audit.record(
        session, actor, duplicate, [audit_rules.added("merged_into", destination)], now
    )
    await audit.record(session, actor, target, [audit_rules.added("merged_from", source)], now)
    return target
