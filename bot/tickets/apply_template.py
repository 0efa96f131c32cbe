"""Applying a template to a ticket: the template must be one the person sees (the desk keys'
template scope, ``bot.tickets.templates``) and be for the ticket's product or shared; what it
fills (``bot.rules.template_fill``) goes through the desk's validation and update, so it is
audited like any other change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules import desk_input
from bot.rules.template_fill import fill_empty
from bot.rules.templates import unknown_template
from bot.tickets import desk, templates
from bot.tickets.apikeys import KeyScope
from bot.tickets.audit import ticket_fields
from bot.tickets.templates import TemplateScope
from storage.models import Ticket, TicketTemplate
from storage.repos.templates import TemplateRepo


def _fits(template: TicketTemplate, ticket: Ticket) -> bool:
    return template.product_id is None or template.product_id == ticket.product_id


async def templates_for(
    session: AsyncSession, scope: KeyScope, ticket: Ticket
) -> Sequence[TicketTemplate]:
    """The templates the person may apply to this ticket, by name."""
    visible = await TemplateRepo(session).all(TemplateScope.of_key(scope).product_ids)
    return [t for t in visible if _fits(t, ticket)]


async def apply_template(
    session: AsyncSession, scope: KeyScope, ticket: Ticket, ref: str, now: dt.datetime
) -> dict[str, Any]:
    """The changes made (none: nothing of the ticket was empty that the template fills)."""
    template = await templates.lookup(session, TemplateScope.of_key(scope), ref)
    if template is None:
        raise unknown_template(ref)
    if not _fits(template, ticket):
        raise ApiError(
            400,
            "Template of another product",
            f"{template.name!r} is for another product; choose one of this ticket's product "
            "or a shared one.",
            fields={"template": "another product's template"},
        )
    data = fill_empty(
        ticket_fields(ticket, ("type", "category", "tags")), templates.request_fields(template)
    )
    if not data:
        return {}
    changes = desk_input.validate_changes(data)
    await desk.update_ticket(session, scope, ticket, changes, now)
    return changes
