"""The desk's rules for tickets: validating staff input, the desk views, and the
changes staff make (create, update, close, comment). Handlers in ``bot.api.desk`` call these.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules import ids, pipeline
from bot.rules.desk_status import DESK_STATUSES, STAFF_CLOSED_CAUSE, DeskStatus, staff_status_change
from bot.rules.pipeline import Stage
from bot.rules.validation import MAX_BODY_BYTES, MAX_EMAIL, MAX_SUBJECT, FieldErrors, is_email
from bot.tickets import transitions
from bot.tickets.apikeys import KeyScope
from bot.tickets.intake import open_ticket
from bot.views.timefmt import iso_ms
from storage.models import Comment, Product, Ticket, TicketTag
from storage.reader import Reader
from storage.reads import desk_reads
from storage.reads.desk_reads import TicketFilters
from storage.repos.desk import DeskRepo
from storage.repos.products import ProductRepo
from storage.visibility import Visibility

PRIORITIES = ("low", "medium", "high", "urgent")
DEFAULT_PRIORITY = "medium"
TICKET_TYPES = ("incident", "service_request", "change", "problem")
SOURCE_TYPES = ("api", "frontend", "backend", "server", "system")
MAX_TAGS = 20
MAX_TAG = 64
MAX_ASSIGNEE = 320
MAX_CATEGORY = 100
MAX_SLUG = 64
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

TICKET_NOT_FOUND = "Ticket not found"
PRODUCT_NOT_FOUND = "Product not found"
_DESK_ID = re.compile(r"^tkt_[A-Za-z0-9_-]{1,36}$")

# The hint that goes with the first failing field (the error is that field's message).
HINTS = {
    "subject": f"Include `subject` (at most {MAX_SUBJECT} characters) in the request body.",
    "body": "Include `body` in the request body.",
    "email": "Include the requester's email address in the request body",
    "priority": "Use low, medium, high or urgent.",
    "status": "Use open, pending, resolved or closed.",
    "tags": f"Send tags as an array of up to {MAX_TAGS} strings of at most {MAX_TAG} characters.",
    "assignee": f"Send the assignee's ID or email (at most {MAX_ASSIGNEE} characters), or null.",
    "type": "Use incident, service_request, change or problem.",
    "category": f"Send category as text of at most {MAX_CATEGORY} characters, or null.",
    "source_type": "Use api, frontend, backend, server or system.",
    "productSlug": "Send the slug of a product this key may use (tinydesk products list).",
    "internal": "Send internal as true (a note for staff only) or false (the submitter sees it).",
}


def raise_if_invalid(errors: FieldErrors) -> None:
    """Seed 001's error shape: the first message as ``error``, every field in ``fields``."""
    if errors.fields:
        field, message = next(iter(errors.fields.items()))
        raise ApiError(400, message, HINTS.get(field), fields=errors.fields)


def _choice(errors: FieldErrors, data: dict[str, Any], field: str, allowed, label: str):
    value = data.get(field)
    if value not in allowed or not isinstance(value, str):
        errors.add(field, f"Invalid {label}")
        return None
    return value


def _tags(errors: FieldErrors, value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        errors.add("tags", f"tags must be an array of at most {MAX_TAGS} strings")
        return None
    tags = []
    for index, tag in enumerate(value):
        if not isinstance(tag, str) or not tag.strip() or "\x00" in tag:
            errors.add("tags", f"tags[{index}] must be a non-empty string")
            return None
        if len(tag.strip()) > MAX_TAG:
            errors.add("tags", f"tags[{index}] must be at most {MAX_TAG} characters")
            return None
        tags.append(tag.strip())
    return tuple(dict.fromkeys(tags))  # a tag once, in first-seen order


def _nullable_text(errors: FieldErrors, data: dict[str, Any], field: str, max_chars: int):
    if data.get(field) is None or data.get(field) == "":
        return None
    return errors.optional_text(data, field, max_chars=max_chars)


@dataclasses.dataclass(frozen=True)
class NewDeskTicket:
    subject: str
    body: str
    email: str
    priority: str = DEFAULT_PRIORITY
    tags: tuple[str, ...] = ()
    product_slug: str | None = None
    ticket_type: str | None = None
    category: str | None = None
    source_type: str = "api"


def validate_new_ticket(data: dict[str, Any]) -> NewDeskTicket:
    """POST /desk/tickets: subject, body and email required; the rest optional."""
    errors = FieldErrors()
    subject = errors.required_text(data, "subject", max_chars=MAX_SUBJECT)
    body = errors.required_text(data, "body", max_bytes=MAX_BODY_BYTES, strip=False)
    email = errors.required_text(data, "email", max_chars=MAX_EMAIL)
    if email is not None and not is_email(email):
        errors.add("email", "Invalid email address")
    priority = DEFAULT_PRIORITY
    if data.get("priority") is not None:
        priority = _choice(errors, data, "priority", PRIORITIES, "priority")
    tags: tuple[str, ...] | None = ()
    if data.get("tags") is not None:
        tags = _tags(errors, data["tags"])
    slug = _nullable_text(errors, data, "productSlug", MAX_SLUG)
    ticket_type = None
    if data.get("type") is not None:
        ticket_type = _choice(errors, data, "type", TICKET_TYPES, "type")
    category = _nullable_text(errors, data, "category", MAX_CATEGORY)
    source_type = "api"
    if data.get("source_type") is not None:
        source_type = _choice(errors, data, "source_type", SOURCE_TYPES, "source_type")
    raise_if_invalid(errors)
    assert subject and body is not None and email and priority and tags is not None
    assert source_type is not None
    return NewDeskTicket(
        subject, body, email, priority, tags, slug, ticket_type, category, source_type
    )


def validate_changes(data: dict[str, Any]) -> dict[str, Any]:
    """PATCH /desk/tickets/:id: only the fields sent change; unknown fields are ignored."""
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    if "status" in data:
        changes["status"] = _choice(errors, data, "status", DESK_STATUSES, "status")
    if "priority" in data:
        changes["priority"] = _choice(errors, data, "priority", PRIORITIES, "priority")
    if "assignee" in data:
        changes["assignee"] = _nullable_text(errors, data, "assignee", MAX_ASSIGNEE)
    if "tags" in data:
        changes["tags"] = _tags(errors, data["tags"])
    if "type" in data:
        changes["type"] = (
            None if data["type"] is None else _choice(errors, data, "type", TICKET_TYPES, "type")
        )
    if "category" in data:
        changes["category"] = _nullable_text(errors, data, "category", MAX_CATEGORY)
    if "source_type" in data:
        changes["source_type"] = _choice(errors, data, "source_type", SOURCE_TYPES, "source_type")
    raise_if_invalid(errors)
    return changes


def validate_comment(data: dict[str, Any]) -> tuple[str, bool]:
    errors = FieldErrors()
    body = errors.required_text(data, "body", max_bytes=MAX_BODY_BYTES, strip=False)
    internal = data.get("internal", False)
    if internal is None:
        internal = False
    if not isinstance(internal, bool):
        errors.add("internal", "internal must be true or false")
    raise_if_invalid(errors)
    assert body is not None
    return body, internal


def validate_filters(query) -> TicketFilters:
    """The list filters from the query string; a bad status or priority is a 400."""
    status = query.get("status")
    if status is not None and status not in DESK_STATUSES:
        raise ApiError(400, "Invalid status", HINTS["status"])
    priority = query.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise ApiError(400, "Invalid priority", HINTS["priority"])
    for name in ("assignee", "tag"):
        if "\x00" in query.get(name, ""):
            raise ApiError(400, f"Invalid {name}", f"{name} must not contain NUL characters.")
    return TicketFilters(status, priority, query.get("assignee"), query.get("tag"))


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(
            400,
            "Invalid limit",
            f"limit must be a whole number from 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        )
    return int(raw)


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


async def create_ticket(session: AsyncSession, scope: KeyScope, new: NewDeskTicket) -> Ticket:
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
    )
    return await find_ticket(session, scope, opened.ticket.desk_id)


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
    session: AsyncSession, ticket: Ticket, status: str, scope: KeyScope, now: dt.datetime
) -> None:
    change = staff_status_change(
        current_status=ticket.status,
        current_stage=ticket.stage,
        resolved_at=ticket.resolved_at,
        new_status=status,
        now=now,
    )
    if change.close_stage:
        # Through the pipeline, so the history, the stage and the status comment agree.
        product = await ProductRepo(session).by_id(ticket.product_id) if ticket.product_id else None
        await transitions.apply(
            session, [ticket], product, pipeline.Signal(pipeline.Fact.STAFF_CLOSED),
            transitions.Cause(STAFF_CLOSED_CAUSE, actor=scope.name),
        )
    ticket.status = change.status
    ticket.resolved_at = change.resolved_at


async def update_ticket(
    session: AsyncSession,
    scope: KeyScope,
    ticket: Ticket,
    changes: dict[str, Any],
    now: dt.datetime,
) -> Ticket:
    """Apply validated changes; nothing here reaches GitHub."""
    if "status" in changes:
        await _set_status(session, ticket, changes["status"], scope, now)
    for field in ("priority", "assignee", "type", "category", "source_type"):
        if field in changes:
            setattr(ticket, field, changes[field])
    if "tags" in changes:
        _replace_tags(ticket, changes["tags"])
    ticket.updated_at = now
    ticket.updated_by = scope.public_id
    await session.flush()
    return ticket


async def close_and_delete(
    session: AsyncSession, scope: KeyScope, ticket: Ticket, now: dt.datetime
) -> None:
    """DELETE: close the ticket (as staff closing it would) and hide it from the desk."""
    if ticket.status != DeskStatus.CLOSED.value or ticket.stage != Stage.CLOSED.value:
        await _set_status(session, ticket, DeskStatus.CLOSED.value, scope, now)
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
    """A comment by the key's name; the first public one is the ticket's first response."""
    comment = Comment(
        desk_id=ids.new_desk_id("cmt"),
        ticket_id=ticket.id,
        body=body,
        internal=internal,
        author=scope.name,
        created_at=now,
    )
    await DeskRepo(session).add_comment(comment)
    if not internal and ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.updated_at = now
    ticket.updated_by = scope.public_id
    await session.flush()
    return comment


def comment_view(comment: Comment | desk_reads.DeskComment) -> dict[str, Any]:
    return {
        "id": comment.desk_id,
        "body": comment.body,
        "internal": comment.internal,
        "author": comment.author,
        "createdAt": iso_ms(comment.created_at),
    }


def ticket_summary(ticket: Ticket | desk_reads.TicketSummary) -> dict[str, Any]:
    """A ticket in the list: seed 001's list fields plus ``publicId``."""
    return {
        "id": ticket.desk_id,
        "publicId": ids.public_id(ticket.id),
        "subject": ticket.subject,
        "priority": ticket.priority,
        "status": ticket.status,
        "email": ticket.submitter_email,
        "tags": [t.tag for t in ticket.tags],
        "assignee": ticket.assignee,
        "createdAt": iso_ms(ticket.created_at),
    }


def ticket_view(
    ticket: Ticket | desk_reads.DeskTicket,
    comments: Sequence[Comment | desk_reads.DeskComment] | None = None,
) -> dict[str, Any]:
    """The staff view: seed 001's fields, ``publicId``, the pipeline stage, and seed 002's
    ITSM fields under their own snake_case names; ``comments`` (notes included) if given."""
    view = {
        "id": ticket.desk_id,
        "publicId": ids.public_id(ticket.id),
        "subject": ticket.subject,
        "body": ticket.body,
        "priority": ticket.priority,
        "status": ticket.status,
        "email": ticket.submitter_email,
        "tags": [t.tag for t in ticket.tags],
        "assignee": ticket.assignee,
        "createdAt": iso_ms(ticket.created_at),
        "updatedAt": iso_ms(ticket.updated_at),
        "productSlug": ticket.product.slug if ticket.product else None,
        "stage": ticket.stage,
        "type": ticket.type,
        "category": ticket.category,
        "source_type": ticket.source_type,
        "first_response_at": iso_ms(ticket.first_response_at),
        "resolved_at": iso_ms(ticket.resolved_at),
        "due_at": iso_ms(ticket.due_at),
        "created_by": ticket.created_by,
        "updated_by": ticket.updated_by,
        "is_test": ticket.is_test,
    }
    if comments is not None:
        view["comments"] = [comment_view(c) for c in comments]
    return view


def stats_view(by_status: dict[str, int], avg_seconds: float | None) -> dict[str, Any]:
    counts = {status: by_status.get(status, 0) for status in DESK_STATUSES}
    hours = round(avg_seconds / 3600, 1) if avg_seconds is not None else 0
    return {
        "byStatus": counts,
        "avgResolutionTimeHours": hours,
        "totalTickets": sum(counts.values()),
    }
