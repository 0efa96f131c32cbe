"""Recording audit entries (``bot.rules.audit``) in the transaction of the change: the desk's
use cases (bot.tickets.desk, helpdesk, link, merge, bot.billing.time_entries) call
``record`` themselves, so no door to a change can leave it out.

Who did it is an ``Actor``: a desk key by its public id and name, a person (their session or
their own key) by that id and their display name, the admin token as ``admin``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import audit as rules
from bot.tickets.apikeys import KeyScope
from storage.models import Ticket, TicketAuditEntry
from storage.repos.audit import TicketAuditRepo


@dataclasses.dataclass(frozen=True)
class Actor:
    id: str
    name: str

    @classmethod
    def of(cls, scope: KeyScope) -> Actor:
        """A person (``role`` set: their session or their key) by their display name, a key
        by its own name."""
        name = scope.public_name if scope.role is not None and scope.public_name else scope.name
        return cls(scope.public_id, name)


ADMIN = Actor("admin", "admin")


def ticket_fields(ticket: Ticket, names: Iterable[str]) -> dict[str, Any]:
    """The named fields of a ticket, as ``bot.rules.audit.entries`` compares them (``tags``
    must be loaded when named)."""
    values: dict[str, Any] = {}
    for name in names:
        if name == "tags":
            values[name] = [t.tag for t in ticket.tags]
        elif name == "deleted":
            values[name] = ticket.deleted_at is not None
        else:
            values[name] = getattr(ticket, name)
    return values


async def record(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    entries: Iterable[rules.Entry],
    now: dt.datetime,
) -> None:
    rows = [
        TicketAuditEntry(
            ticket_id=ticket.id,
            at=now,
            actor_id=actor.id,
            actor_name=actor.name,
            field=entry.field,
            old_value=entry.old,
            new_value=entry.new,
        )
        for entry in entries
    ]
    if rows:
        await TicketAuditRepo(session).add(rows)


async def record_changes(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    """An entry per field that ``before`` and ``after`` tell apart."""
    await record(session, actor, ticket, rules.entries(before, after), now)
