"""Public intake: validating what submitters send, and opening a ticket (with its first history
entry and the job that opens its GitHub issue)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.rules import callbacks, ids
from bot.rules.callbacks import Network
from bot.rules.pipeline import Stage
from bot.rules.tenants import DEFAULT_TENANT
from bot.rules.validation import (
    MAX_BODY_BYTES,
    MAX_EMAIL,
    MAX_NAME,
    MAX_SCREENSHOTS,
    MAX_SUBJECT,
    FieldErrors,
    is_email,
    is_web_url,
)
from bot.tickets import callbacks as ticket_callbacks
from bot.tickets import sla_clock, ticket_events
from storage.models import Product, StageTransition, Ticket, TicketTag
from storage.repos.jobs import JobRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow


@dataclasses.dataclass(frozen=True)
class Submission:
    product_slug: str
    submitter_email: str
    subject: str
    body: str
    submitter_name: str | None = None
    screenshots: tuple[str, ...] = ()
    # Mail the submitter of each step (when TinyDesk sends mail); ``emailUpdates`` in the API.
    email_updates: bool = True
    # POST each step and public comment here, signed (``callbackUrl``; bot.tickets.callbacks).
    callback_url: str | None = None


def validate_submission(data: dict[str, Any], callback_allow: Sequence[Network] = ()) -> Submission:
    """Check a public POST /api/tickets body; every failing field is reported at once."""
    errors = FieldErrors()
    slug = errors.required_text(data, "productSlug", max_chars=64)
    email = errors.required_text(data, "submitterEmail", max_chars=MAX_EMAIL)
    if email is not None and not is_email(email):
        errors.add("submitterEmail", "Invalid email address")
    subject = errors.required_text(data, "subject", max_chars=MAX_SUBJECT)
    body = errors.required_text(data, "body", max_bytes=MAX_BODY_BYTES, strip=False)
    name = errors.optional_text(data, "submitterName", max_chars=MAX_NAME)
    screenshots = validate_screenshots(data.get("screenshots"), errors)
    email_updates = errors.optional_bool(data, "emailUpdates", default=True)
    callback_url = callbacks.validate_field(data, errors, callback_allow)
    errors.raise_if_any(
        "Fix the fields listed in `fields`; required: productSlug, submitterEmail, subject, body."
    )
    assert slug and email and subject and body is not None
    return Submission(slug, email, subject, body, name, screenshots, email_updates, callback_url)



def validate_screenshots(value: Any, errors: FieldErrors) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.add("screenshots", "screenshots must be an array of URLs")
        return ()
    if len(value) > MAX_SCREENSHOTS:
        errors.add("screenshots", f"screenshots may hold at most {MAX_SCREENSHOTS} URLs")
        return ()
    urls = []
    for index, url in enumerate(value):
        if not isinstance(url, str) or not is_web_url(url.strip()):
            errors.add("screenshots", f"screenshots[{index}] must be an http(s) URL")
            return ()
        urls.append(url.strip())
    return tuple(urls)


@dataclasses.dataclass(frozen=True)
class ItsmFields:
    """Seed 002's columns of a new ticket: its tenant (default: its product's) and
    application (the creating key's), team, provenance and what it relates to."""

    tenant_id: str | None = None
    app_id: str | None = None
    team_id: str | None = None
    source: str = "edm"
    related_asset_id: str | None = None
    related_vulnerability_id: str | None = None

    def columns(self, product: Product | None) -> dict[str, Any]:
        tenant = self.tenant_id or (product.tenant_id if product else DEFAULT_TENANT)
        return {**dataclasses.asdict(self), "tenant_id": tenant}


@dataclasses.dataclass(frozen=True)
class OpenedTicket:
    ticket: Ticket
    tracking_token: str
    # The secret that signs the ticket's callbacks: in the create's answer, once.
    callback_secret: str | None = None


async def open_ticket(
    session: AsyncSession,
    *,
    product: Product | None,
    subject: str,
    body: str,
    email: str,
    submitter_name: str | None = None,
    screenshots: tuple[str, ...] = (),
    priority: str = "medium",
    tags: tuple[str, ...] = (),
    ticket_type: str | None = None,
    category: str | None = None,
    source_type: str = "api",
    created_by: str | None = None,
    is_test: bool = False,
    email_updates: bool = True,
    callback_url: str | None = None,
    settings: Settings | None = None,
    itsm: ItsmFields | None = None,
    now: dt.datetime | None = None,
) -> OpenedTicket:
    """Store a ticket at RECEIVED, with its history entry, its SLA clocks started and, if it
    has a product, the outbox job that opens its GitHub issue: all in the caller's
    transaction. A ``callback_url`` (validated) gets its secret, sealed under ``settings``."""
    token = ids.new_tracking_token()
    now = now or utcnow()
    ticket = Ticket(
        desk_id=ids.new_desk_id("tkt"),
        product_id=product.id if product else None,
        subject=subject,
        body=body,
        submitter_email=email,
        submitter_name=submitter_name,
        screenshots=list(screenshots),
        tracking_token_hash=ids.hash_secret(token),
        stage=Stage.RECEIVED.value,
        status="open",
        priority=priority,
        type=ticket_type,
        category=category,
        source_type=source_type,
        is_test=is_test,
        created_by=created_by,
        updated_by=created_by,
        created_at=now,
        updated_at=now,
        tags=[TicketTag(tag=tag, position=i) for i, tag in enumerate(tags)],
        **(itsm or ItsmFields()).columns(product),
    )
    repo = TicketRepo(session)
    await sla_clock.start(session, ticket, product, now)
    await repo.add(ticket)
    await repo.record_transition(
        StageTransition(
            ticket_id=ticket.id,
            from_stage=None,
            to_stage=Stage.RECEIVED.value,
            at=now,
            cause="ticket.submitted",
            description="Ticket received",
            actor=created_by,
        )
    )
    if product is not None and not is_test:
        await JobRepo(session).enqueue(
            JobKind.CREATE_ISSUE, {"ticket_id": ticket.id}, dedupe_key=f"issue:{ticket.id}"
        )
    callback_secret = None
    if callback_url is not None:
        assert settings is not None, "a callback's secret is sealed under the settings"
        callback_secret = await ticket_callbacks.register(session, settings, ticket, callback_url)
    await ticket_events.publish(
        session,
        ticket_events.TicketEvent(
            ticket_events.CREATED, ticket, tracking_token=token, email_updates=email_updates
        ),
    )
    return OpenedTicket(ticket, token, callback_secret)


async def open_submission(
    session: AsyncSession,
    product: Product,
    submission: Submission,
    *,
    source_type: str = "api",
    settings: Settings | None = None,
) -> OpenedTicket:
    """``open_ticket`` for a validated public submission (the API's or the form's)."""
    return await open_ticket(
        session,
        product=product,
        subject=submission.subject,
        body=submission.body,
        email=submission.submitter_email,
        submitter_name=submission.submitter_name,
        screenshots=submission.screenshots,
        source_type=source_type,
        email_updates=submission.email_updates,
        callback_url=submission.callback_url,
        settings=settings,
    )
