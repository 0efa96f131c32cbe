"""Seed 002's ITSM resource: the desk's use cases (bot.tickets.desk) seen through the
ticket document, within the caller's tenant and application.

Who sees what: the desk's rule (storage.visibility: the key's products, and the product-less
tickets it created), and on top of it the ticket's ``tenant_id`` must be the key's, and for a
key made for an application, ``app_id`` its application. A key of one tenant never reads,
changes or even learns of another tenant's ticket (a 404, as for a ticket that does not
exist).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.errors import ApiError
from bot.http.bodies import text_problem
from bot.rules import helpdesk as rules
from bot.rules import ids
from bot.rules.desk_input import PRIORITIES, TICKET_TYPES
from bot.rules.desk_status import DESK_STATUSES, DeskStatus
from bot.rules.validation import FieldErrors, is_email
from bot.tickets import audit, desk, sla_clock
from bot.tickets.apikeys import KeyScope
from bot.tickets.intake import ItsmFields
from storage.models import SlaPolicy, Team, Ticket
from storage.reader import Reader
from storage.reads import itsm_reads
from storage.reads.itsm_reads import ItsmTicket
from storage.visibility import Visibility

MAX_PAGE = 100
DESK_ID = re.compile(r"^tkt_[A-Za-z0-9_-]{1,36}$")
DEFAULT_PAGE = 25
MAX_TEAM_NAME = 100


def _not_found() -> ApiError:
    return ApiError(
        404,
        "Ticket not found",
        "Use the ticket's id (tkt_…), number (TKT-0042) or publicId (TK-00042); tickets of "
        "another tenant, application or product scope are not shown.",
    )


def scope_clause(scope: KeyScope, *, include_deleted: bool = False) -> ColumnElement[bool]:
    """The tickets ``scope`` may see through this resource."""
    visible = Visibility(
        scope.product_ids, creator=scope.public_id, include_deleted=include_deleted
    )
    clause = and_(visible.clause(), Ticket.tenant_id == scope.tenant_id)
    if scope.app_id is not None:
        clause = and_(clause, Ticket.app_id == scope.app_id)
    return clause


def _number_of(ref: str) -> int | None:
    return rules.parse_number(ref) or ids.parse_public_id(ref)


async def find(
    session: AsyncSession, scope: KeyScope, ref: str, *, include_deleted: bool = False
) -> Ticket:
    query = (
        select(Ticket)
        .where(scope_clause(scope, include_deleted=include_deleted))
        .options(selectinload(Ticket.tags), selectinload(Ticket.product))
        .execution_options(populate_existing=True)
    )
    number = _number_of(ref)
    if number is not None:
        query = query.where(Ticket.id == number)
    elif DESK_ID.match(ref):
        query = query.where(Ticket.desk_id == ref)
    else:
        raise _not_found()
    ticket = await session.scalar(query)
    if ticket is None:
        raise _not_found()
    return ticket


@dataclasses.dataclass(frozen=True)
class Filters:
    status: str | None = None
    priority: str | None = None
    type: str | None = None
    category: str | None = None
    team_id: str | None = None
    include_deleted: bool = False


def read_filters(query: Mapping[str, str]) -> Filters:
    include = query.get("include_deleted", "false").lower()
    if include not in ("true", "false", "1", "0"):
        raise ApiError(
            400,
            "Invalid include_deleted",
            "Send include_deleted=true to list soft-deleted tickets too, or leave it out.",
            fields={"include_deleted": "include_deleted must be true or false"},
        )
    for field, allowed in (
        ("status", DESK_STATUSES),
        ("priority", PRIORITIES),
        ("type", TICKET_TYPES),
    ):
        value = query.get(field)
        if value is not None and value not in allowed:
            raise ApiError(
                400,
                f"Invalid {field}",
                f"Filter {field} by one of: {', '.join(allowed)}.",
                fields={field: f"{field} must be one of {', '.join(allowed)}"},
            )
    for field in ("category", "team_id"):
        if (problem := text_problem(field, query.get(field, ""))) is not None:
            raise ApiError(400, f"Invalid {field}", f"{problem}.", fields={field: problem})
    return Filters(
        status=query.get("status") or None,
        priority=query.get("priority") or None,
        type=query.get("type") or None,
        category=query.get("category") or None,
        team_id=query.get("team_id") or None,
        include_deleted=include in ("true", "1"),
    )


async def page(
    reader: Reader, scope: KeyScope, filters: Filters, before_id: int | None, limit: int
) -> list[ItsmTicket]:
    """Newest first; ``limit + 1`` rows tell whether another page exists. On the Reader
    (``storage.reads.itsm_reads``): the scope of ``scope_clause``, written as SQL."""
    visible = Visibility(
        scope.product_ids, creator=scope.public_id, include_deleted=filters.include_deleted
    )
    equal = {
        "status": filters.status,
        "priority": filters.priority,
        "type": filters.type,
        "category": filters.category,
        "team_id": filters.team_id,
    }
    return await itsm_reads.page(
        reader, visible, scope.tenant_id, scope.app_id, equal, before_id, limit + 1
    )


async def _policy_by_ref(session: AsyncSession, data: dict[str, Any]) -> dict[str, Any]:
    """``sla_policy`` as the document names it (``slp_3``) turned into the policy's name,
    which the desk's rules take (an unknown id stays as sent: the desk's 400 names it)."""
    policy_id = rules.parse_policy_ref(data.get("sla_policy"))
    if policy_id is None:
        return data
    policy = await session.get(SlaPolicy, policy_id)
    return {**data, "sla_policy": policy.name} if policy is not None else data


async def _check_team(session: AsyncSession, scope: KeyScope, team_id: str | None) -> None:
    if team_id is None:
        return
    team = await session.scalar(
        select(Team).where(Team.desk_id == team_id, Team.tenant_id == scope.tenant_id)
    )
    if team is None:
        raise ApiError(
            400,
            "Unknown team",
            "Send the id of one of your tenant's teams (GET /api/v1/helpdesk/teams).",
            fields={"team_id": "no such team in this tenant"},
        )


async def create(
    session: AsyncSession,
    scope: KeyScope,
    data: dict[str, Any],
    settings: Settings,
    now: dt.datetime,
) -> Ticket:
    data = await _policy_by_ref(session, data)
    # Who it is for: submitter_email, else the key's name when it is an address, else an
    # address of the key's own that mail never goes to.
    fallback = scope.name if is_email(scope.name) else f"{scope.public_id}@keys.invalid"
    new, extra = rules.validate_create(data, fallback)
    if new.email.endswith("@keys.invalid"):
        new = dataclasses.replace(new, email_updates=False)
    await _check_team(session, scope, extra.get("team_id"))
    ticket, _ = await desk.create_ticket(
        session, scope, new, now, settings=settings, itsm=ItsmFields(**extra)
    )
    await sla_clock.evaluate(session, ticket, now)
    return ticket


# What the ticket document changes besides the desk's fields (those: desk.update_ticket).
_OWN_FIELDS = (
    "subject",
    "body",
    "team_id",
    "related_asset_id",
    "related_vulnerability_id",
    "source",
)


async def update(
    session: AsyncSession, scope: KeyScope, ref: str, data: dict[str, Any], now: dt.datetime
) -> Ticket:
    desk_changes, extra = rules.validate_update(await _policy_by_ref(session, data))
    ticket = await find(session, scope, ref)
    if "team_id" in extra:
        await _check_team(session, scope, extra["team_id"])
    before = {"type": ticket.type, "team_id": ticket.team_id}
    if desk_changes:
        await desk.update_ticket(session, scope, ticket, desk_changes, now)
    own = [name for name in _OWN_FIELDS if name in extra]
    own_before = audit.ticket_fields(ticket, own)
    for attribute in own:
        setattr(ticket, attribute, extra[attribute])
    await audit.record_changes(
        session, audit.Actor.of(scope), ticket, own_before, audit.ticket_fields(ticket, own), now
    )
    if rules.is_incompatible(before, {"type": ticket.type, "team_id": ticket.team_id}):
        ticket.schema_version += 1
    ticket.updated_at, ticket.updated_by = now, scope.public_id
    await session.flush()
    return ticket


async def close(session: AsyncSession, scope: KeyScope, ref: str, now: dt.datetime) -> Ticket:
    ticket = await find(session, scope, ref)
    if ticket.status != DeskStatus.CLOSED.value:
        await desk.update_ticket(session, scope, ticket, {"status": DeskStatus.CLOSED.value}, now)
    return ticket


async def _record_deleted(
    session: AsyncSession, scope: KeyScope, ticket: Ticket, deleted: bool, now: dt.datetime
) -> None:
    await audit.record_changes(
        session,
        audit.Actor.of(scope),
        ticket,
        {"deleted": ticket.deleted_at is not None},
        {"deleted": deleted},
        now,
    )


async def soft_delete(session: AsyncSession, scope: KeyScope, ref: str, now: dt.datetime) -> Ticket:
    """Hide the ticket from default lists (``is_deleted``); nothing else changes, and
    ``restore`` brings it back as it was."""
    ticket = await find(session, scope, ref)
    await _record_deleted(session, scope, ticket, True, now)
    ticket.deleted_at, ticket.deleted_by = now, scope.public_id
    ticket.updated_at, ticket.updated_by = now, scope.public_id
    await session.flush()
    return ticket


async def restore(session: AsyncSession, scope: KeyScope, ref: str, now: dt.datetime) -> Ticket:
    ticket = await find(session, scope, ref, include_deleted=True)
    if ticket.deleted_at is None:
        raise ApiError(409, "Ticket is not deleted", "Only a deleted ticket can be restored.")
    await _record_deleted(session, scope, ticket, False, now)
    ticket.deleted_at = ticket.deleted_by = None
    ticket.schema_version += 1  # readers that saw it gone must read it again
    ticket.updated_at, ticket.updated_by = now, scope.public_id
    await session.flush()
    return ticket


async def teams(session: AsyncSession, scope: KeyScope) -> Sequence[Team]:
    query = select(Team).where(Team.tenant_id == scope.tenant_id).order_by(Team.name)
    return (await session.scalars(query)).all()


async def add_team(session: AsyncSession, scope: KeyScope, data: dict[str, Any]) -> Team:
    errors = FieldErrors()
    name = errors.required_text(data, "name", max_chars=MAX_TEAM_NAME)
    errors.raise_if_any(f"Send the team's name (at most {MAX_TEAM_NAME} characters).")
    assert name is not None
    team = Team(desk_id=ids.new_desk_id("team"), tenant_id=scope.tenant_id, name=name)
    try:
        async with session.begin_nested():
            session.add(team)
            await session.flush()
    except IntegrityError:
        raise ApiError(
            409, "Team exists", f"Your tenant has a team named {name!r} already."
        ) from None
    return team
