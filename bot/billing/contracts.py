"""Contracts of a client, and the hour bank of a time-based one as a ledger.

A contract's terms (kind, period, start, time zone, rounding, hours, rates, rollover, fee)
are fixed once an invoice has charged it: changing them would rewrite the ledger of periods
already billed. Its name, scope and end stay editable (the end never before a charged
period). The ledger is computed from the terms and the time drawn on the contract
(``bot.rules.hour_bank``), so it is never out of step with the entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.billing.access import not_found
from bot.errors import ApiError
from bot.rules import hour_bank, ids
from bot.rules.billing_input import TERMS
from bot.rules.billing_periods import Period, local_date, span_of
from bot.rules.invoicing import Contract as Terms
from bot.rules.invoicing import ContractKind
from bot.rules.rounding import RoundingMode
from storage.models import Client, Contract, TimeEntry
from storage.repos.billing import BillingRepo

CONTRACT_HINT = "Use a contract's id (con_…): GET /api/v1/desk/contracts lists them."


async def find_contract(session: AsyncSession, ref: str) -> Contract:
    contract = (
        await BillingRepo(session).contract_by_desk_id(ref) if ref.startswith("con_") else None
    )
    if contract is None:
        raise not_found("Contract", CONTRACT_HINT)
    return contract


def terms(contract: Contract) -> Terms:
    """The pure rules' view of a stored contract."""
    return Terms(
        id=contract.id,
        name=contract.name,
        kind=ContractKind(contract.kind),
        period=Period(contract.period),
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        time_zone=contract.time_zone,
        rounding_increment=contract.rounding_increment,
        rounding_mode=RoundingMode(contract.rounding_mode),
        minutes_per_period=contract.minutes_per_period,
        hourly_rate=contract.hourly_rate,
        overage_rate=contract.overage_rate,
        rollover=contract.rollover,
        rollover_cap=contract.rollover_cap,
        fee=contract.fee,
    )


def fields_of(contract: Contract) -> dict[str, Any]:
    """The stored fields ``validate_contract`` checks an edit against."""
    return {key: getattr(contract, key) for key in (*TERMS, "name", "ends_on", "scope")}


async def create_contract(
    session: AsyncSession, client: Client, fields: dict[str, Any], now: dt.datetime
) -> Contract:
    fields = {k: v for k, v in fields.items() if not k.startswith("_")}
    contract = Contract(
        desk_id=ids.new_desk_id("con"),
        client_id=client.id,
        created_at=now,
        updated_at=now,
        **fields,
    )
    await BillingRepo(session).add(contract)
    return contract


async def update_contract(
    session: AsyncSession, contract: Contract, fields: dict[str, Any], now: dt.datetime
) -> Contract:
    repo = BillingRepo(session)
    sent = fields.pop("_sent", set())
    changed = {key for key in sent if fields.get(key) != getattr(contract, key)}
    if changed & set(TERMS) and await repo.has_charges(contract.id):
        raise ApiError(
            409,
            "The contract's terms are fixed: an invoice has charged it",
            "Only name, scope and endsOn may change now; for new terms end this contract "
            "and make a new one.",
            fields={key: "fixed once invoiced" for key in sorted(changed & set(TERMS))},
        )
    if "ends_on" in changed and fields["ends_on"] is not None:
        charged = [c.period_start for c in await repo.charges_of_contracts([contract.id])]
        if charged and fields["ends_on"] < max(charged):
            raise ApiError(
                409,
                "endsOn is before a period already charged",
                f"An invoice charged the period from {max(charged)}; end on or after it.",
                fields={"endsOn": "before a charged period"},
            )
    if changed & {"starts_on", "ends_on", "period", "time_zone"}:
        await _check_entries_still_fit(session, contract, fields)
    for key in changed:
        setattr(contract, key, fields[key])
    contract.updated_at = now
    await session.flush()
    return contract


async def _check_entries_still_fit(
    session: AsyncSession, contract: Contract, fields: dict[str, Any]
) -> None:
    """New dates may not leave time already logged on the contract outside it."""
    period = Period(fields["period"])
    for entry in await BillingRepo(session).entries_of_contract(contract.id, billable_only=False):
        day = local_date(entry.started_at, fields["time_zone"])
        span = span_of(fields["starts_on"], period, day)
        if span is None or (fields["ends_on"] is not None and span.start > fields["ends_on"]):
            raise ApiError(
                409,
                "Time on the contract would fall outside it",
                f"A time entry ({entry.desk_id}) is dated {day}; move or delete it first, or "
                "keep the contract's dates around it.",
                fields={"startsOn": "leaves logged time outside"},
            )


def draws(contract: Contract, entries: list[TimeEntry]) -> list[hour_bank.Draw]:
    rules = terms(contract)
    return [
        hour_bank.Draw(e.id, local_date(e.started_at, contract.time_zone), rules.billed(e.minutes))
        for e in entries
        if e.billable
    ]


async def ledger(
    session: AsyncSession, contract: Contract, through: dt.date
) -> list[hour_bank.Entry]:
    entries = list(await BillingRepo(session).entries_of_contract(contract.id))
    return hour_bank.ledger(terms(contract).bank_terms(), draws(contract, entries), through)


def today(contract: Contract, now: dt.datetime) -> dt.date:
    return local_date(now, contract.time_zone)


async def check_entry_fits(
    session: AsyncSession, contract: Contract, started_at: dt.datetime
) -> None:
    """A time entry may go on the contract: within its periods, and (a bank) not in a
    period whose overage an invoice has already charged."""
    day = local_date(started_at, contract.time_zone)
    period = span_of(contract.starts_on, Period(contract.period), day)
    if period is None or (contract.ends_on is not None and period.start > contract.ends_on):
        raise ApiError(
            400,
            "The time is outside the contract",
            f"{contract.name} runs from {contract.starts_on}"
            + (f" to {contract.ends_on}" if contract.ends_on else "")
            + f" ({contract.time_zone}); this work is dated {day}.",
            fields={"startedAt": "outside the contract"},
        )
    if contract.kind == ContractKind.TIME_BASED:
        charge = await BillingRepo(session).charge(contract.id, "overage", period.start)
        if charge is not None:
            invoice = await BillingRepo(session).invoice(charge.invoice_id)
            name = (invoice.number or invoice.desk_id) if invoice else "an invoice"
            raise ApiError(
                409,
                "That bank period is invoiced",
                f"{name} billed {contract.name} for the period from {period.start}; log the "
                "work with a later startedAt, or on no contract.",
                fields={"startedAt": "in an invoiced period"},
            )
