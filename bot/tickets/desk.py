"""The changes staff make to tickets through the desk (create, update, close, comment), and
finding the tickets a key may see. Handlers in ``bot.api.desk`` call these; what they accept
is checked by ``bot.rules.desk_input`` and what they answer is shaped by ``bot.views.desk``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.errors import ApiError
from bot.rules import audit as audit_rules
from bot.rules import ids
from bot.rules.desk_input import HINTS, PRIORITIES, NewDeskTicket
from bot.rules.desk_status import DESK_STATUSES, STAFF_CLOSED_CAUSE, DeskStatus, staff_status_change
from bot.rules.pipeline import Stage
from bot.tickets import audit, sla_clock, sla_lists, ticket_events, transitions
from bot.tickets.apikeys import KeyScope
from bot.tickets.intake import ItsmFields, open_ticket
from bot.tickets.search import ticket_match
from bot.tickets.sla_policies import policy_for_field
from storage.models import Comment, Product, SlaPolicy, Ticket, TicketTag
from storage.reader import Reader
from storage.reads import desk_reads
from storage.reads.desk_reads import TicketFilters
from storage.repos.desk import DeskRepo
from storage.repos.products import ProductRepo
from storage.visibility import Visibility

TICKET_NOT_FOUND = "Ticket not found"
STAGE_NAMES = tuple(stage.value for stage in Stage)
PRODUCT_NOT_FOUND = "Product not found"
_DESK_ID = re.compile(r"^tkt_[A-Za-z0-9_-]{1,36}$")


# The hint that goes with the first failing field (the error is that field's message).
def validate_filters(query: Mapping[str, str]) -> TicketFilters:
    """The list filters and the search (``q``) from the query string; a bad status or
    priority, or a search that cannot be run, is a 400."""
    status = query.get("status")
    if status is not None and status not in DESK_STATUSES:
        raise ApiError(400, "Invalid status", HINTS["status"])
    priority = query.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise ApiError(400, "Invalid priority", HINTS["priority"])
    for name in ("assignee", "tag"):
        if "\x00" in query.get(name, ""):
            raise ApiError(400, f"Invalid {name}", f"{name} must not contain NUL characters.")
    stage = query.get("stage")
    if stage is not None and stage not in STAGE_NAMES:
        raise ApiError(400, "Invalid stage", f"Use one of {', '.join(STAGE_NAMES)}.")
    match = ticket_match(query["q"]) if "q" in query else None
    return TicketFilters(
        status, priority, query.get("assignee"), query.get("tag"), match, stage=stage
    )


async def list_filters(reader: Reader, scope: KeyScope, query: Mapping[str, str]) -> TicketFilters:
    """``validate_filters`` and the product a ``productSlug`` names (404 when it is unknown
    or outside the caller's scope, as the breach list answers)."""
    filters = validate_filters(query)
    slug = query.get("productSlug")
    if slug is None:
        return filters
    if "\x00" in slug:
        raise ApiError(400, "Invalid productSlug", "productSlug must not contain NUL characters.")
    product_id = await sla_lists.product_id(reader, visibility(scope), slug)
    return dataclasses.replace(filters, product_id=product_id)


def visibility(scope: KeyScope) -> Visibility:
    return Visibility(scope.product_ids, creator=scope.public_id)


def _ticket_not_found() -> ApiError:
    return ApiError(
        404,
        TICKET_NOT_FOUND,
        "Use the ticket's id (tkt_…) or publicId (TK-00042); deleted tickets and tickets "
        "of products outside this key's scope are not shown.",
    )


async def find_ticket(session: AsyncSession, scope: KeyScope, ref: str) -> Ticket:
    """A visible ticket by desk id (``tkt_…``) or publicId (``TK-00042``), else 404."""
    repo = DeskRepo(session)
    number = ids.parse_public_id(ref)
    ticket = None
    if number is not None:
        ticket = await repo.visible_by_number(number, visibility(scope))
    elif _DESK_ID.match(ref):
        ticket = await repo.visible_by_desk_id(ref, visibility(scope))
    if ticket is None:
        raise _ticket_not_found()
    return ticket


async def read_ticket(reader: Reader, scope: KeyScope, ref: str) -> desk_reads.DeskTicket:
    """``find_ticket`` for a read-only request, in plain SQL on the Reader."""
    number = ids.parse_public_id(ref)
    ticket = None
    if number is not None:
        ticket = await desk_reads.visible_by_number(reader, number, visibility(scope))
    elif _DESK_ID.match(ref):
        ticket = await desk_reads.visible_by_desk_id(reader, ref, visibility(scope))
    if ticket is None:
        raise _ticket_not_found()
    return ticket


async def product_for_new_ticket(
    session: AsyncSession, scope: KeyScope, slug: str | None
) -> Product | None:
    """Where a desk ticket goes: the named product (it must be in scope), else the key's
    only product; a key that sees several products files product-less tickets."""
    repo = ProductRepo(session)
    if slug is not None:
        product = await repo.by_slug(slug)
        if product is None or not scope.sees_product(product.id):
            raise ApiError(
                404,
                PRODUCT_NOT_FOUND,
                f"No product {slug!r} is open to this key; leave productSlug out or ask an "
                "admin for the right slug.",
            )
        return product
    if scope.product_ids is not None and len(scope.product_ids) == 1:
        return await repo.by_id(scope.product_ids[0])
    return None


async def create_ticket(
    session: AsyncSession,
    scope: KeyScope,
    new: NewDeskTicket,
    now: dt.datetime | None = None,
    *,
    settings: Settings | None = None,
    itsm: ItsmFields | None = None,
) -> tuple[Ticket, str | None]:
    """The new ticket, and the secret of its callback if it has one (shown once). It is the
    key's tenant's, stamped with the key's application."""
    product = await product_for_new_ticket(session, scope, new.product_slug)
    opened = await open_ticket(
        session,
        product=product,
        subject=new.subject,
        body=new.body,
        email=new.email,
        priority=new.priority,
        tags=new.tags,
        ticket_type=new.ticket_type,
        category=new.category,
        source_type=new.source_type,
        created_by=scope.public_id,
        is_test=scope.is_test,
        email_updates=new.email_updates,
        callback_url=new.callback_url,
        settings=settings,
        itsm=dataclasses.replace(
            itsm or ItsmFields(), tenant_id=scope.tenant_id, app_id=scope.app_id
        ),
        now=now,
    )
    return await find_ticket(session, scope, opened.ticket.desk_id), opened.callback_secret


def _replace_tags(ticket: Ticket, tags: tuple[str, ...]) -> None:
    # Keep the rows of tags that stay, so the (ticket_id, tag) key is never inserted twice.
    existing = {t.tag: t for t in ticket.tags}
    kept = []
    for position, tag in enumerate(tags):
        row = existing.get(tag) or TicketTag(tag=tag)
        row.position = position
        kept.append(row)
    ticket.tags = kept


async def _set_status(
    session: AsyncSession,
    ticket: Ticket,
    status: str,
    scope: KeyScope,
    now: dt.datetime,
    closing_cause: transitions.Cause | None = None,
) -> None:
    change = staff_status_change(
        current_status=ticket.status,
        current_stage=ticket.stage,
        resolved_at=ticket.resolved_at,
        new_status=status,
        now=now,
    )
    old_status = ticket.status
    if change.close_stage:
        # Through the pipeline, so the history, the stage and the status comment agree.
        product = await ProductRepo(session).by_id(ticket.product_id) if ticket.product_id else None
        ticket.staff_closed_at = now
        await transitions.refresh_tickets(
            session,
            [ticket],
            product,
            closing_cause or transitions.Cause(STAFF_CLOSED_CAUSE, actor=scope.name),
            now=now,
        )
    ticket.status = change.status
    ticket.resolved_at = change.resolved_at
    await sla_clock.status_changed(session, ticket, old_status, by_staff=True, now=now)


async def _policy_name(session: AsyncSession, ticket: Ticket) -> str | None:
    policy = await session.get(SlaPolicy, ticket.sla_policy_id) if ticket.sla_policy_id else None
    return policy.name if policy is not None else None


async def update_ticket(
    session: AsyncSession,
    scope: KeyScope,
    ticket: Ticket,
    changes: dict[str, Any],
    now: dt.datetime,
    *,
    closing_cause: transitions.Cause | None = None,
) -> Ticket:
    """Apply validated changes, with an audit entry for each field that changed; nothing
    here reaches GitHub. ``closing_cause``: why the history says a close happened, when it
    is not staff closing it (a merge)."""
    # Looked up first: an unknown policy is a 400 before anything changes.
    policy = None
    if "sla_policy" in changes:
        policy = await policy_for_field(
            session, changes["sla_policy"], "slaPolicy", error=None, hint=HINTS["slaPolicy"]
        )
    audited = [name for name in changes if name != "sla_policy"]
    before = audit.ticket_fields(ticket, audited)
    if policy is not None:
        before["sla_policy"] = await _policy_name(session, ticket)
    if "status" in changes:
        await _set_status(session, ticket, changes["status"], scope, now, closing_cause)
    for field in ("priority", "assignee", "type", "category", "source_type"):
        if field in changes:
            setattr(ticket, field, changes[field])
    if policy is not None:  # due times again, from creation, on the policy named
        await sla_clock.change_policy(session, ticket, policy, now)
    elif "priority" in changes:
        await sla_clock.refresh(session, ticket, now)  # due times again, from creation
    if "tags" in changes:
        _replace_tags(ticket, changes["tags"])
    after = audit.ticket_fields(ticket, audited)
    if policy is not None:
        after["sla_policy"] = policy.name
    await audit.record_changes(session, audit.Actor.of(scope), ticket, before, after, now)
    ticket.updated_at = now
    ticket.updated_by = scope.public_id
    await session.flush()
    return ticket


async def close_and_delete(
    session: AsyncSession, scope: KeyScope, ticket: Ticket, now: dt.datetime
) -> None:
    """DELETE: close the ticket (as staff closing it would) and hide it from the desk."""
    before = audit.ticket_fields(ticket, ("status", "deleted"))
    if ticket.status != DeskStatus.CLOSED.value or ticket.stage != Stage.CLOSED.value:
        await _set_status(session, ticket, DeskStatus.CLOSED.value, scope, now)
    await audit.record_changes(
        session,
        audit.Actor.of(scope),
        ticket,
        before,
        {"status": ticket.status, "deleted": True},
        now,
    )
    ticket.deleted_at = now
    ticket.deleted_by = scope.public_id
    ticket.updated_at = now
    ticket.updated_by = scope.public_id
    await session.flush()


async def add_comment(
    session: AsyncSession,
    scope: KeyScope,
    ticket: Ticket,
    body: str,
    internal: bool,
    now: dt.datetime,
) -> Comment:
    """A comment by the key's name (for staff) and its public name (for the submitter, fixed
    now); the first public one is the ticket's first response. The audit entry names the
    comment, never its text."""
    comment = Comment(
        desk_id=ids.new_desk_id("cmt"),
        ticket_id=ticket.id,
        body=body,
        internal=internal,
        author=scope.name,
        public_author=scope.public_author,
        created_at=now,
    )
    await DeskRepo(session).add_comment(comment)
    await audit.record(
        session,
        audit.Actor.of(scope),
        ticket,
        [audit_rules.added("internal_note" if internal else "comment", comment.desk_id)],
        now,
    )
    await ticket_events.publish(
        session, ticket_events.TicketEvent(ticket_events.COMMENT_ADDED, ticket, comment=comment)
    )
    if not internal and ticket.first_response_at is None:
        ticket.first_response_at = now
        await sla_clock.refresh(session, ticket, now)  # the response clock stops
    ticket.updated_at = now
    ticket.updated_by = scope.public_id
    await session.flush()
    return comment
