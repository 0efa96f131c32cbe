"""A ticket's SLA clocks, kept on the ticket as its facts change.

Each change that matters to an SLA calls in here, in the caller's transaction: a ticket
opened (``start``), its desk status changed by staff or by the pipeline
(``status_changed``: pending pauses the clocks, resolved or closed ends the resolution
cycle, a reopen starts a new one), a public staff comment, a priority or policy change
(``refresh``). ``refresh`` derives the stored instants from the facts with the pure rules
(``bot.rules.sla``), so no time passing alone ever needs a write: "breached now" is a
range query on ``sla_breach_at`` (storage.reads.sla_reads).

``evaluate`` is the other way round: a ticket's full SLA standing at an instant, for the
desk views.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import sla
from bot.rules.business_time import NoWorkingTime, Span
from bot.rules.desk_status import FINISHED, DeskStatus
from bot.rules.sla_policy import policy_of
from storage.models import Product, SlaPolicy, Ticket, TicketSlaCycle
from storage.repos.sla import SlaRepo


class PolicyFields(Protocol):
    """A policy as stored: the ORM row, or storage.reads.sla_reads.PolicyRecord."""

    @property
    def name(self) -> str: ...
    @property
    def targets(self) -> Mapping[str, Mapping[str, int]]: ...
    @property
    def calendar(self) -> Mapping[str, Any] | None: ...
    @property
    def response_ends(self) -> str: ...
    @property
    def warn_minutes(self) -> int: ...


class TicketClocks(Protocol):
    """The SLA facts of a ticket: the ORM row, or storage.reads.sla_reads.SlaTicket."""

    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def priority(self) -> str: ...
    @property
    def first_response_at(self) -> dt.datetime | None: ...
    @property
    def sla_first_status_at(self) -> dt.datetime | None: ...
    @property
    def sla_paused_since(self) -> dt.datetime | None: ...
    @property
    def sla_cycle_started_at(self) -> dt.datetime | None: ...
    @property
    def sla_cycle_ended_at(self) -> dt.datetime | None: ...


class EndedCycle(Protocol):
    @property
    def started_at(self) -> dt.datetime: ...
    @property
    def ended_at(self) -> dt.datetime: ...
    @property
    def due_at(self) -> dt.datetime | None: ...
    @property
    def breached(self) -> bool: ...


def rules_policy(row: PolicyFields) -> sla.Policy:
    return policy_of(row.name, row.targets, row.calendar, row.response_ends, row.warn_minutes)


@dataclasses.dataclass(frozen=True)
class Standing:
    """A ticket's SLA at an instant: the policy, both clocks, and the earlier cycles."""

    policy: PolicyFields
    response: sla.Status
    resolution: sla.Status
    earlier_cycles: Sequence[EndedCycle]
    pauses: Sequence[Span]
    paused_since: dt.datetime | None

    @property
    def violated(self) -> str | None:
        return sla.violated(self.response, self.resolution)


def facts_of(
    ticket: TicketClocks, pauses: Sequence[Span], earlier: Sequence[EndedCycle] = ()
) -> sla.Facts:
    current = sla.Cycle(
        started_at=ticket.sla_cycle_started_at or ticket.created_at,
        resolved_at=ticket.sla_cycle_ended_at,
    )
    return sla.Facts(
        created_at=ticket.created_at,
        priority=ticket.priority,
        first_staff_comment_at=ticket.first_response_at,
        first_staff_status_change_at=ticket.sla_first_status_at,
        pauses=tuple(pauses),
        paused_since=ticket.sla_paused_since,
        cycles=(*(sla.Cycle(c.started_at, c.ended_at) for c in earlier), current),
    )


async def start(
    session: AsyncSession, ticket: Ticket, product: Product | None, now: dt.datetime
) -> None:
    """A new ticket: the policy of its product (else the default) governs it from now on."""
    repo = SlaRepo(session)
    policy = await repo.policy(product.sla_policy_id if product is not None else None)
    ticket.sla_policy_id = policy.id
    await _store(session, ticket, policy, (), now)


async def status_changed(
    session: AsyncSession,
    ticket: Ticket,
    old_status: str,
    *,
    by_staff: bool,
    now: dt.datetime,
) -> None:
    """After ``ticket.status`` moved from ``old_status`` (staff in the desk, or the pipeline)."""
    new_status = ticket.status
    if new_status == old_status:
        return
    repo = SlaRepo(session)
    if by_staff and ticket.sla_first_status_at is None:
        ticket.sla_first_status_at = now
    pending = DeskStatus.PENDING.value
    if old_status == pending and ticket.sla_paused_since is not None:
        if now > ticket.sla_paused_since:
            repo.add_pause(ticket.id, ticket.sla_paused_since, now)
        ticket.sla_paused_since = None
    if new_status == pending:
        ticket.sla_paused_since = now
    policy = await repo.policy(ticket.sla_policy_id)
    if new_status in FINISHED and ticket.sla_cycle_ended_at is None:
        ticket.sla_cycle_ended_at = now
    elif new_status not in FINISHED and ticket.sla_cycle_ended_at is not None:
        # Reopened: the cycle that ended is kept, with how it stood, and a new one starts.
        pauses = await repo.pauses(ticket.id)
        ended = _resolution(policy, ticket, pauses, now)
        repo.add_cycle(
            TicketSlaCycle(
                ticket_id=ticket.id,
                started_at=ended.started_at,
                ended_at=ticket.sla_cycle_ended_at,
                due_at=ended.due_at,
                breached=ended.breached,
            )
        )
        ticket.sla_cycle_started_at = now
        ticket.sla_cycle_ended_at = None
    await refresh(session, ticket, now, policy=policy)


async def change_policy(
    session: AsyncSession, ticket: Ticket, policy: SlaPolicy, now: dt.datetime
) -> None:
    ticket.sla_policy_id = policy.id
    await refresh(session, ticket, now, policy=policy)


async def refresh(
    session: AsyncSession, ticket: Ticket, now: dt.datetime, *, policy: SlaPolicy | None = None
) -> None:
    """Store the instants the ticket's facts give now (after a comment, a priority change)."""
    repo = SlaRepo(session)
    policy = policy or await repo.policy(ticket.sla_policy_id)
    await _store(session, ticket, policy, await repo.pauses(ticket.id), now)


def _resolution(
    policy: SlaPolicy, ticket: Ticket, pauses: Sequence[Span], now: dt.datetime
) -> sla.Status:
    return sla.evaluate(rules_policy(policy), facts_of(ticket, pauses), now)[1]


async def _store(
    session: AsyncSession,
    ticket: Ticket,
    policy: SlaPolicy,
    pauses: Sequence[Span],
    now: dt.datetime,
) -> None:
    rules = rules_policy(policy)
    facts = facts_of(ticket, pauses)
    try:
        response, resolution = sla.evaluate(rules, facts, now)
        stored = sla.deadlines(rules, facts)
    except NoWorkingTime:
        # A calendar with no working time ahead (every day a holiday): nothing falls due.
        _clear(ticket)
        return
    ticket.first_response_due_at = response.due_at
    ticket.due_at = resolution.due_at
    ticket.sla_response_breach_at = stored.response.due_at or stored.response.breached_at
    ticket.sla_resolution_breach_at = stored.resolution.due_at or stored.resolution.breached_at
    ticket.sla_breach_at = _earliest(ticket.sla_response_breach_at, ticket.sla_resolution_breach_at)
    ticket.sla_alert_at = _earliest(
        stored.response.warn_at,
        stored.response.due_at,
        stored.response.breached_at,
        stored.resolution.warn_at,
        stored.resolution.due_at,
        stored.resolution.breached_at,
    )
    # What the stats count (migration 0011, sla_counts).
    ticket.sla_response_outcome = _outcome(response, stored.response)
    ticket.sla_resolution_outcome = _outcome(resolution, stored.resolution)
    ticket.sla_resolution_minutes = (
        resolution.used_minutes if resolution.ended_at is not None else None
    )
    ticket.sla_running_due_at = _earliest(stored.response.due_at, stored.resolution.due_at)


def _outcome(status: sla.Status, stored: sla.Deadline) -> str | None:
    """'met' for a clock that ended in time, 'breached' for one that stopped (ended, or
    paused) after its due time, a promise nothing can mend; None while undecided."""
    if stored.breached_at is not None:
        return sla.State.BREACHED.value
    if stored.due_at is None and status.ended_at is not None:
        return sla.State.MET.value
    return None


def _clear(ticket: Ticket) -> None:
    ticket.first_response_due_at = ticket.due_at = None
    ticket.sla_response_breach_at = ticket.sla_resolution_breach_at = None
    ticket.sla_breach_at = ticket.sla_alert_at = None
    ticket.sla_response_outcome = ticket.sla_resolution_outcome = None
    ticket.sla_resolution_minutes = ticket.sla_running_due_at = None


def _earliest(*instants: dt.datetime | None) -> dt.datetime | None:
    known = [i for i in instants if i is not None]
    return min(known) if known else None


async def evaluate(session: AsyncSession, ticket: Ticket, now: dt.datetime) -> Standing | None:
    """The ticket's SLA standing at ``now`` (None if its calendar has no working time)."""
    repo = SlaRepo(session)
    policy = await repo.policy(ticket.sla_policy_id)
    pauses = await repo.pauses(ticket.id)
    earlier = await repo.cycles(ticket.id)
    return standing(policy, ticket, pauses, earlier, now)


def standing(
    policy: PolicyFields,
    ticket: TicketClocks,
    pauses: Sequence[Span],
    earlier: Sequence[EndedCycle],
    now: dt.datetime,
    *,
    rules: sla.Policy | None = None,
) -> Standing | None:
    """The standing at ``now``; ``rules``: the policy already turned into rules (a list of
    many tickets on a few policies)."""
    try:
        rules = rules or rules_policy(policy)
        response, resolution = sla.evaluate(rules, facts_of(ticket, pauses), now)
    except NoWorkingTime:
        return None
    return Standing(policy, response, resolution, earlier, pauses, ticket.sla_paused_since)
