"""Time entries on tickets (seed 003): who logged how many minutes, for what, billable or not,
on which contract. The technician is the caller, never the request body. An entry on an
invoice (draft or issued) is locked; edits and deletes are refused with a 409 that says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.billing import bank_alerts, clients
from bot.billing import contracts as contract_service
from bot.billing.access import not_found
from bot.errors import ApiError
from bot.rules import audit as audit_rules
from bot.rules import ids
from bot.rules.billing_periods import local_date
from bot.tickets import audit
from storage.models import Client, Contract, Ticket, TimeEntry
from storage.repos.billing import BillingRepo


def _audited(entry: TimeEntry) -> str:
    """A time entry as its audit entry names it (its description stays on the entry)."""
    return f"{entry.desk_id}: {entry.minutes} min" + ("" if entry.billable else ", not billable")


ENTRY_HINT = "Use a time entry's id (tim_…): GET /api/v1/desk/tickets/{id}/time lists them."


async def find_entry(session: AsyncSession, ticket: Ticket, ref: str) -> TimeEntry:
    entry = await BillingRepo(session).entry_by_desk_id(ref) if ref.startswith("tim_") else None
    if entry is None or entry.ticket_id != ticket.id:
        raise not_found("Time entry", ENTRY_HINT)
    return entry


async def _contract_for(
    session: AsyncSession, ref: str | None, client: Client | None
) -> Contract | None:
    if ref is None:
        return None
    contract = await contract_service.find_contract(session, ref)
    if client is None or contract.client_id != client.id:
        raise ApiError(
            400,
            "The contract is another client's",
            "Time goes on a contract of the client the ticket bills to"
            + (
                f" ({client.name})"
                if client
                else " (this ticket bills to no client yet: PUT /api/v1/desk/tickets/{id}/client)"
            )
            + ".",
            fields={"contract": "another client's contract"},
        )
    return contract


async def _locked(session: AsyncSession, entry: TimeEntry) -> ApiError | None:
    if entry.invoice_id is None:
        return None
    invoice = await BillingRepo(session).invoice(entry.invoice_id)
    if invoice is not None and invoice.status == "draft":
        return ApiError(
            409,
            "The time entry is on a draft invoice",
            f"Delete the draft {invoice.desk_id} (DELETE /api/v1/desk/invoices/{invoice.desk_id})"
            " to change it, then make the draft again.",
        )
    number = invoice.number if invoice is not None else "an invoice"
    return ApiError(
        409,
        "The time entry is invoiced",
        f"It is billed on {number}, which can no longer change; to correct it issue a credit "
        f"note (POST /api/v1/desk/invoices/{number}/credit).",
    )


async def log_time(
    session: AsyncSession,
    technician: str,
    ticket: Ticket,
    fields: dict[str, Any],
    now: dt.datetime,
    *,
    actor: audit.Actor,
) -> TimeEntry:
    client = await clients.client_for_ticket(session, ticket)
    contract = await _contract_for(session, fields.get("contract"), client)
    started_at = fields.get("started_at") or now
    if contract is not None:
        await contract_service.check_entry_fits(session, contract, started_at)
    entry = TimeEntry(
        desk_id=ids.new_desk_id("tim"),
        ticket_id=ticket.id,
        technician=technician,
        minutes=fields["minutes"],
        description=fields["description"],
        billable=fields["billable"],
        started_at=started_at,
        client_id=client.id if client else None,
        contract_id=contract.id if contract else None,
        created_at=now,
        updated_at=now,
    )
    await BillingRepo(session).add(entry)
    await audit.record(
        session, actor, ticket, [audit_rules.added("time_entry", _audited(entry))], now
    )
    if contract is not None and entry.billable:
        await bank_alerts.after_draw(
            session, contract, local_date(started_at, contract.time_zone), now
        )
    return entry


async def edit_time(
    session: AsyncSession,
    ticket: Ticket,
    entry: TimeEntry,
    fields: dict[str, Any],
    now: dt.datetime,
    *,
    actor: audit.Actor,
) -> TimeEntry:
    refusal = await _locked(session, entry)
    if refusal is not None:
        raise refusal
    repo = BillingRepo(session)
    old_contract = await repo.contract(entry.contract_id) if entry.contract_id else None
    contract = old_contract
    if "contract" in fields:
        client = await repo.client(entry.client_id) if entry.client_id else None
        contract = await _contract_for(session, fields["contract"], client)
    started_at = fields.get("started_at") or entry.started_at
    if old_contract is not None:
        # Leaving a period already billed would change what that invoice charged.
        await contract_service.check_entry_fits(session, old_contract, entry.started_at)
    if contract is not None:
        await contract_service.check_entry_fits(session, contract, started_at)
    was = _audited(entry)
    for key in ("minutes", "description", "billable"):
        if key in fields:
            setattr(entry, key, fields[key])
    entry.started_at = started_at
    entry.contract_id = contract.id if contract else None
    entry.updated_at = now
    await audit.record_changes(
        session, actor, ticket, {"time_entry": was}, {"time_entry": _audited(entry)}, now
    )
    await session.flush()
    if contract is not None and entry.billable:
        await bank_alerts.after_draw(
            session, contract, local_date(started_at, contract.time_zone), now
        )
    return entry


async def delete_time(
    session: AsyncSession, ticket: Ticket, entry: TimeEntry, now: dt.datetime, *, actor: audit.Actor
) -> None:
    refusal = await _locked(session, entry)
    if refusal is not None:
        raise refusal
    if entry.contract_id is not None:
        contract = await BillingRepo(session).contract(entry.contract_id)
        if contract is not None:
            await contract_service.check_entry_fits(session, contract, entry.started_at)
    await audit.record(
        session, actor, ticket, [audit_rules.removed("time_entry", _audited(entry))], now
    )
    await session.delete(entry)
    await session.flush()


def totals(entries: list[TimeEntry]) -> dict[str, Any]:
    """Minutes in all and billable, and per technician (a ticket's figures)."""
    by_technician: dict[str, dict[str, int]] = {}
    for entry in entries:
        sums = by_technician.setdefault(entry.technician, {"minutes": 0, "billableMinutes": 0})
        sums["minutes"] += entry.minutes
        if entry.billable:
            sums["billableMinutes"] += entry.minutes
    return {
        "minutes": sum(e.minutes for e in entries),
        "billableMinutes": sum(e.minutes for e in entries if e.billable),
        "nonBillableMinutes": sum(e.minutes for e in entries if not e.billable),
        "entries": len(entries),
        "byTechnician": [
            {"technician": name, **sums} for name, sums in sorted(by_technician.items())
        ],
    }


def _bucket(entry: TimeEntry, group: str, zone: str) -> str:
    day = local_date(entry.started_at, zone)
    if group == "day":
        return day.isoformat()
    if group == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def report_totals(entries: Sequence[TimeEntry], group: str, zone: str) -> dict[str, Any]:
    """The totals of a time report: in all, per technician and per period (``group``: day,
    ISO week or month, in ``zone``)."""
    by_period: dict[str, dict[str, int]] = {}
    for entry in entries:
        sums = by_period.setdefault(
            _bucket(entry, group, zone), {"minutes": 0, "billableMinutes": 0}
        )
        sums["minutes"] += entry.minutes
        if entry.billable:
            sums["billableMinutes"] += entry.minutes
    figures = totals(list(entries))
    figures["groupBy"] = group
    figures["timeZone"] = zone
    figures["byPeriod"] = [{"period": key, **sums} for key, sums in sorted(by_period.items())]
    return figures
