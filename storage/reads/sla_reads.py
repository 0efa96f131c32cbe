"""The SLA reads in plain SQL on the Reader: a ticket's SLA facts, the breach list, the
"breaches within" list, and the SLA figures of the stats.

Both lists are range scans on the instants ``bot.tickets.sla_clock`` stores (migration
0010 indexes each with the id), in keyset order, so a page costs the same at a million
tickets as at a hundred:

- breached now: ``sla_breach_at < now`` (either clock), ``sla_response_breach_at < now``
  (response), ``sla_resolution_breach_at < now`` (resolution), oldest breach first;
- breaching within a window: a running clock whose due instant lies in ``(now, until]``,
  soonest first. Each clock has its own index; a ticket with both clocks in the window is
  listed once, under the earlier one (the other query leaves it out), so the two ordered
  scans merge into one order a cursor can continue.

Rows come back as records with the models' attribute names (``bot.tickets.sla_clock``
reads either).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from storage.reader import Reader, utc
from storage.visibility import Params, Visibility


class PolicyRecord(NamedTuple):
    id: int
    name: str
    is_default: bool
    targets: dict[str, dict[str, int]]
    calendar: dict[str, Any] | None
    response_ends: str
    warn_minutes: int


class CycleRecord(NamedTuple):
    started_at: dt.datetime
    ended_at: dt.datetime
    due_at: dt.datetime | None
    breached: bool


class SlaTicket(NamedTuple):
    """A ticket's SLA facts, and what a list entry shows of it."""

    id: int
    desk_id: str
    subject: str
    priority: str
    status: str
    assignee: str | None
    product_slug: str | None
    created_at: dt.datetime
    first_response_at: dt.datetime | None
    sla_first_status_at: dt.datetime | None
    sla_paused_since: dt.datetime | None
    sla_cycle_started_at: dt.datetime | None
    sla_cycle_ended_at: dt.datetime | None
    sla_policy_id: int | None


TICKET_COLUMNS = (
    "t.id, t.desk_id, t.subject, t.priority, t.status, t.assignee, p.slug, t.created_at, "
    "t.first_response_at, t.sla_first_status_at, t.sla_paused_since, t.sla_cycle_started_at, "
    "t.sla_cycle_ended_at, t.sla_policy_id"
)
_TIMES = slice(7, 13)


def _sla_ticket(row: Sequence[Any]) -> SlaTicket:
    return SlaTicket(*row[:7], *(utc(value) for value in row[_TIMES]), row[13])  # type: ignore[call-arg]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


async def policies(reader: Reader) -> dict[int, PolicyRecord]:
    """Every policy by id (a handful of rows)."""
    rows = await reader.fetch(
        "SELECT id, name, is_default, targets, calendar, response_ends, warn_minutes "
        "FROM sla_policies ORDER BY id"
    )
    return {
        row[0]: PolicyRecord(
            row[0], row[1], bool(row[2]), _json(row[3]), _json(row[4]), row[5], int(row[6])
        )
        for row in rows
    }


def policy_of(found: dict[int, PolicyRecord], policy_id: int | None) -> PolicyRecord | None:
    """A ticket's policy: its own, else (none recorded, or since deleted) the default."""
    if policy_id is not None and policy_id in found:
        return found[policy_id]
    return next((p for p in found.values() if p.is_default), None)


async def pauses(
    reader: Reader, ticket_ids: Sequence[int]
) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
    """The closed pauses of these tickets, in order."""
    found: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {i: [] for i in ticket_ids}
    if not ticket_ids:
        return found
    params = Params()
    ids = ", ".join(params(i) for i in ticket_ids)
    sql = (
        "SELECT ticket_id, started_at, ended_at FROM ticket_sla_pauses "
        f"WHERE ticket_id IN ({ids}) ORDER BY ticket_id, id"
    )
    for ticket_id, started, ended in await reader.fetch(sql, *params.values):
        start, end = utc(started), utc(ended)
        assert start is not None and end is not None
        found[ticket_id].append((start, end))
    return found


async def cycles(reader: Reader, ticket_id: int) -> list[CycleRecord]:
    rows = await reader.fetch(
        "SELECT started_at, ended_at, due_at, breached FROM ticket_sla_cycles "
        "WHERE ticket_id = $1 ORDER BY id",
        ticket_id,
    )
    return [
        CycleRecord(utc(a), utc(b), utc(c), bool(d))  # type: ignore[arg-type]
        for a, b, c, d in rows
    ]


async def ticket(reader: Reader, ticket_id: int) -> SlaTicket | None:
    row = await reader.fetchrow(
        f"SELECT {TICKET_COLUMNS} FROM tickets t LEFT JOIN products p ON p.id = t.product_id "
        "WHERE t.id = $1",
        ticket_id,
    )
    return _sla_ticket(row) if row is not None else None


# --------------------------------------------------------------------------- the lists


@dataclasses.dataclass(frozen=True)
class ListFilters:
    target: str | None = None  # None (either), "response", "resolution", "both"
    priority: str | None = None
    assignee: str | None = None
    product_id: int | None = None
    since: dt.datetime | None = None  # falling due at or after this


@dataclasses.dataclass(frozen=True)
class Entry:
    ticket: SlaTicket
    key: dt.datetime  # the instant the list is ordered by (with the id)


Cursor = tuple[dt.datetime, int]

_COLUMN = {"response": "t.sla_response_breach_at", "resolution": "t.sla_resolution_breach_at"}


def _where(params: Params, visibility: Visibility, filters: ListFilters) -> list[str]:
    where = [visibility.sql(params)]
    if filters.priority is not None:
        where.append(f"t.priority = {params(filters.priority)}")
    if filters.assignee is not None:
        where.append(f"t.assignee = {params(filters.assignee)}")
    if filters.product_id is not None:
        where.append(f"t.product_id = {params(filters.product_id)}")
    return where


def _after(reader: Reader, params: Params, key: str, cursor: Cursor | None) -> list[str]:
    if cursor is None:
        return []
    at, last_id = params(reader.instant(cursor[0])), params(cursor[1])
    return [f"({key} > {at} OR ({key} = {at} AND t.id > {last_id}))"]


async def _scan(
    reader: Reader, key: str, where: list[str], params: Params, limit: int
) -> list[Entry]:
    sql = (
        f"SELECT {TICKET_COLUMNS}, {key} FROM tickets t "
        "LEFT JOIN products p ON p.id = t.product_id "
        f"WHERE {' AND '.join(where)} ORDER BY {key}, t.id LIMIT {params(limit)}"
    )
    rows = await reader.fetch_bounded(sql, *params.values)
    entries = []
    for row in rows:
        at = utc(row[14])
        assert at is not None
        entries.append(Entry(_sla_ticket(row), at))
    return entries


async def breached(
    reader: Reader,
    visibility: Visibility,
    filters: ListFilters,
    now: dt.datetime,
    *,
    cursor: Cursor | None,
    limit: int,
) -> list[Entry]:
    """Tickets with a broken promise at ``now``, the oldest breach first."""
    params = Params()
    key = {
        None: "t.sla_breach_at",
        "response": _COLUMN["response"],
        "resolution": _COLUMN["resolution"],
        "both": _COLUMN["response"],
    }[filters.target]
    where = _where(params, visibility, filters)
    moment = params(reader.instant(now))
    where.append(f"{key} < {moment}")
    if filters.target == "both":
        where.append(f"{_COLUMN['resolution']} < {moment}")
    if filters.since is not None:
        where.append(f"{key} >= {params(reader.instant(filters.since))}")
    where += _after(reader, params, key, cursor)
    return await _scan(reader, key, where, params, limit)


async def breaching_within(
    reader: Reader,
    visibility: Visibility,
    filters: ListFilters,
    now: dt.datetime,
    until: dt.datetime,
    *,
    cursor: Cursor | None,
    limit: int,
) -> list[Entry]:
    """Tickets a running clock of which falls due in ``(now, until]``, the soonest first;
    each ticket once, keyed by its earlier such due instant."""
    clocks = ["response", "resolution"] if filters.target in (None, "both") else [filters.target]
    merged: list[Entry] = []
    for clock in clocks:
        params = Params()
        key, other = _COLUMN[clock], _COLUMN["resolution" if clock == "response" else "response"]
        start, end = params(reader.instant(now)), params(reader.instant(until))
        where = _where(params, visibility, filters)
        where.append(f"{key} > {start} AND {key} <= {end}")
        if filters.since is not None:
            where.append(f"{key} >= {params(reader.instant(filters.since))}")
        if filters.target == "both":
            where.append(f"{other} > {start} AND {other} <= {end}")
        if len(clocks) == 2:
            # Listed under the earlier of its two clocks (a tie: under the response).
            before = "<" if clock == "response" else "<="
            where.append(
                f"NOT ({other} IS NOT NULL AND {other} > {start} AND {other} {before} {key})"
            )
        where += _after(reader, params, key, cursor)
        merged += await _scan(reader, key, where, params, limit)
    merged.sort(key=lambda e: (e.key, e.ticket.id))
    return merged[:limit]
