"""Managing SLA policies (issue 15): list, find, create, edit, delete, make default. The
admin API, the admin pages and the CLI all call these; the document format and its checks
are ``bot.rules.sla_policy``.

Rules kept here:

- names are unique without regard to case (``EU hours`` and ``eu HOURS`` are one name): 409;
- exactly one policy is the default; it cannot be deleted (make another the default first);
- deleting a policy moves its products and tickets to the default policy, and the stored due
  times of those tickets still open are computed again on the default;
- an edit of what the clocks depend on (targets, calendar, responseEnds, warnMinutes)
  computes the stored due times of the policy's open tickets again, from their creation;
- a product's policy governs only the tickets opened after it is set: each ticket records
  its policy at creation (seed 002's ``sla_policy``), so changing a product's policy moves
  no existing ticket (the desk's ``PATCH /desk/tickets/{id}`` ``slaPolicy`` does that).

Every check runs before the first write: a 400 or 409 changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules.desk_status import DeskStatus
from bot.rules.numbers import whole_number
from bot.rules.sla_policy import PolicyDoc, check_policy
from bot.tickets import sla_clock
from storage.models import Product, SlaPolicy, Ticket
from storage.repos.products import ProductRepo
from storage.repos.sla import SlaRepo

POLICY_NOT_FOUND = "SLA policy not found"
VALIDATION_FAILED = "Validation failed"
DOCUMENT_HINT = (
    "Fix the fields listed in `fields`. A policy is {name, targets: {critical|high|medium|low: "
    "{response, resolution}} in minutes, calendar: null (24x7) or {timeZone, hours: {monday: "
    '[["09:00", "17:00"]], ...}, holidays: ["YYYY-MM-DD"], holidayCountry}, responseEnds, '
    "warnMinutes, default}."
)
# Open tickets whose due times are computed again after an edit or a delete, per round.
RECOMPUTE_BATCH = 500
# What the clocks depend on: an edit of any of these recomputes the stored due times.
CLOCK_FIELDS = ("targets", "calendar", "response_ends", "warn_minutes")


@dataclasses.dataclass(frozen=True)
class Removed:
    name: str
    default_name: str
    products_moved: int
    tickets_moved: int


def doc_of(row: SlaPolicy) -> PolicyDoc:
    """The stored policy as the document ``check_policy`` merges an edit into."""
    return PolicyDoc(
        name=row.name,
        targets={level: dict(target) for level, target in (row.targets or {}).items()},
        calendar=row.calendar,
        response_ends=row.response_ends,
        warn_minutes=row.warn_minutes,
    )


def _not_found(key: str) -> ApiError:
    return ApiError(
        404,
        POLICY_NOT_FOUND,
        f"No SLA policy has the id or name {key!r}; GET /api/admin/sla/policies lists them.",
    )


async def list_policies(session: AsyncSession) -> Sequence[SlaPolicy]:
    return await SlaRepo(session).all_policies()


async def products_by_policy(session: AsyncSession) -> dict[int, list[str]]:
    """The slugs of the products each policy governs (a product without one: the default's)."""
    default = await SlaRepo(session).default_policy()
    used: dict[int, list[str]] = {}
    for product in await ProductRepo(session).all():
        policy_id = product.sla_policy_id if product.sla_policy_id is not None else default.id
        used.setdefault(policy_id, []).append(product.slug)
    return used


async def policy_names(session: AsyncSession) -> dict[int, str]:
    return {p.id: p.name for p in await SlaRepo(session).all_policies()}


async def find_policy(session: AsyncSession, key: str | int) -> SlaPolicy:
    """A policy by its id (a whole number) or, failing that, its name (any case); 404."""
    repo = SlaRepo(session)
    text = str(key).strip()
    policy_id = whole_number(text)
    if policy_id is not None:
        found = await session.get(SlaPolicy, policy_id)
        if found is not None:
            return found
    # No name holds NUL, and PostgreSQL refuses to compare with it.
    found = await repo.by_name(text) if text and "\x00" not in text else None
    if found is None:
        raise _not_found(text)
    return found


async def policy_for_field(
    session: AsyncSession,
    name: Any,
    field: str,
    *,
    error: str | None = VALIDATION_FAILED,
    hint: str = "Send the name of an existing SLA policy, or null for the default policy.",
) -> SlaPolicy:
    """The policy a request names in ``field`` (a product's or a ticket's ``slaPolicy``);
    an unknown name is a 400 naming that field (``error`` None: the field's message is the
    error, seed 001's shape for the desk API)."""
    usable = isinstance(name, str) and name.strip() and "\x00" not in name
    found = await SlaRepo(session).by_name(name.strip()) if usable else None
    if found is None:
        known = ", ".join(repr(p.name) for p in await SlaRepo(session).all_policies())
        message = f"No SLA policy is named {name!r} (known: {known})"
        raise ApiError(400, error or message, hint, fields={field: message})
    return found


def _default_flag(data: dict[str, Any]) -> tuple[dict[str, Any], bool | None, dict[str, str]]:
    """``default`` is not part of the stored document: taken out and checked on its own."""
    rest = {k: v for k, v in data.items() if k != "default"}
    if "default" not in data:
        return rest, None, {}
    flag = data["default"]
    if not isinstance(flag, bool):
        return rest, None, {"default": "default is true (make this the default policy) or false"}
    return rest, flag, {}


def _refuse(fields: dict[str, str]) -> None:
    if fields:
        raise ApiError(400, VALIDATION_FAILED, DOCUMENT_HINT, fields=fields)


async def _refuse_taken_name(session: AsyncSession, name: str, own_id: int | None) -> None:
    taken = await SlaRepo(session).by_name(name)
    if taken is not None and taken.id != own_id:
        raise _duplicate(name, taken.name)


def _duplicate(name: str, existing: str) -> ApiError:
    return ApiError(
        409,
        "SLA policy already exists",
        f"The name {name!r} is taken by the policy {existing!r} (names ignore case); "
        "choose another, or edit that policy.",
        fields={"name": f"a policy named {existing!r} exists already"},
    )


async def create_policy(session: AsyncSession, data: dict[str, Any], now: dt.datetime) -> SlaPolicy:
    """A new policy from its document (seed 003's targets for levels left out, 24x7 without a
    calendar); ``"default": true`` makes it the default at once."""
    rest, make_it_default, fields = _default_flag(data)
    doc, problems = check_policy(rest)
    _refuse({**fields, **problems})
    assert doc is not None
    await _refuse_taken_name(session, doc.name, None)
    row = SlaPolicy(
        name=doc.name,
        is_default=False,
        targets=doc.targets,
        calendar=doc.calendar,
        response_ends=doc.response_ends,
        warn_minutes=doc.warn_minutes,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        # Two creations of the same name raced; the database kept one.
        raise _duplicate(doc.name, doc.name) from None
    if make_it_default:
        await _make_default(session, row, now)
    return row


async def edit_policy(
    session: AsyncSession, key: str | int, data: dict[str, Any], now: dt.datetime
) -> tuple[SlaPolicy, int]:
    """Apply the fields ``data`` names (the rest keep their value); returns the policy and
    how many open tickets had their due times computed again."""
    row = await find_policy(session, key)
    rest, make_it_default, fields = _default_flag(data)
    if make_it_default is False and row.is_default:
        fields["default"] = (
            "this is the default policy: make another policy the default instead "
            "(PATCH it with default: true)"
        )
    if not rest and make_it_default is None:
        fields["body"] = "send at least one of name, targets, calendar, responseEnds, warnMinutes"
    old = doc_of(row)
    doc, problems = check_policy(rest, old) if rest else (old, {})
    _refuse({**fields, **problems})
    assert doc is not None
    if doc.name != old.name:
        await _refuse_taken_name(session, doc.name, row.id)
    clocks_changed = (
        doc.targets != old.targets
        or doc.calendar != old.calendar
        or doc.response_ends != old.response_ends
        or doc.warn_minutes != old.warn_minutes
    )
    row.name = doc.name
    row.targets = doc.targets
    row.calendar = doc.calendar
    row.response_ends = doc.response_ends
    row.warn_minutes = doc.warn_minutes
    row.updated_at = now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _duplicate(doc.name, doc.name) from None
    recomputed = 0
    if clocks_changed:
        recomputed = await recompute_open_tickets(session, row, now)
    if make_it_default and not row.is_default:
        recomputed += await _make_default(session, row, now)
    return row, recomputed


async def make_default(session: AsyncSession, key: str | int, now: dt.datetime) -> SlaPolicy:
    row = await find_policy(session, key)
    if not row.is_default:
        await _make_default(session, row, now)
    return row


async def _make_default(session: AsyncSession, row: SlaPolicy, now: dt.datetime) -> int:
    """``row`` becomes the one default. Tickets that name no policy (older than policies)
    follow the default, so their due times are computed again."""
    await session.execute(
        update(SlaPolicy).where(SlaPolicy.id != row.id).values(is_default=False, updated_at=now)
    )
    row.is_default = True
    row.updated_at = now
    await session.flush()
    repo = SlaRepo(session)
    repo.forget_policies()
    return await _recompute(session, [Ticket.sla_policy_id.is_(None)], now, policy=row)


async def delete_policy(session: AsyncSession, key: str | int, now: dt.datetime) -> Removed:
    """Delete a policy that is not the default: its products and tickets move to the
    default, and the open tickets among them get the default's due times."""
    row = await find_policy(session, key)
    if row.is_default:
        raise ApiError(
            400,
            VALIDATION_FAILED,
            f"{row.name!r} is the default policy and cannot be deleted; make another policy "
            "the default first (PATCH it with default: true, or tinydesk sla policy default "
            "NAME), then delete this one.",
            fields={"default": f"{row.name!r} is the default policy"},
        )
    repo = SlaRepo(session)
    default = await repo.default_policy()
    products = await session.scalars(select(Product.id).where(Product.sla_policy_id == row.id))
    products_moved = len(products.all())
    # The tickets to recompute, noted before detach_policy forgets which policy they had.
    moving = (
        await session.scalars(
            select(Ticket.id).where(Ticket.sla_policy_id == row.id).order_by(Ticket.id)
        )
    ).all()
    await repo.detach_policy(row.id)
    name = row.name
    await session.delete(row)
    await session.flush()
    repo.forget_policies()
    open_ids = list(moving)
    for start in range(0, len(open_ids), RECOMPUTE_BATCH):
        batch = open_ids[start : start + RECOMPUTE_BATCH]
        await _recompute(session, [Ticket.id.in_(batch)], now, policy=default)
    return Removed(name, default.name, products_moved, len(moving))


async def recompute_open_tickets(session: AsyncSession, row: SlaPolicy, now: dt.datetime) -> int:
    """Store again the due times of every open ticket ``row`` governs (those naming no
    policy too, when it is the default)."""
    governs = Ticket.sla_policy_id == row.id
    if row.is_default:
        governs = or_(governs, Ticket.sla_policy_id.is_(None))
    return await _recompute(session, [governs], now, policy=row)


async def _recompute(
    session: AsyncSession, where: list[Any], now: dt.datetime, *, policy: SlaPolicy
) -> int:
    """Recompute the open (not closed) tickets matching ``where`` on ``policy``, in batches
    of RECOMPUTE_BATCH by id, all in the caller's transaction (the edit and its
    consequences commit together or not at all).

    How it scales: linear in the policy's open tickets. Each batch is one indexed select
    of tickets, one select of pauses per ticket (``sla_clock.refresh``) and the updates at
    the flush; the batch is then expunged, so memory stays at one batch. The time grows
    with the open tickets, and the write transaction is held throughout: a policy with
    hundreds of thousands of open tickets would want this moved to an outbox job."""
    done = 0
    after = 0
    while True:
        query = (
            select(Ticket)
            .where(*where, Ticket.status != DeskStatus.CLOSED.value, Ticket.id > after)
            .order_by(Ticket.id)
            .limit(RECOMPUTE_BATCH)
        )
        tickets = (await session.scalars(query)).all()
        if not tickets:
            return done
        for ticket in tickets:
            await sla_clock.change_policy(session, ticket, policy, now)
        await session.flush()
        for ticket in tickets:
            session.expunge(ticket)
        done += len(tickets)
        after = tickets[-1].id
