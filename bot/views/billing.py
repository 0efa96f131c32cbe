"""The billing API's JSON: clients, contracts with their ledgers, time entries, rates and
invoices. Money is a decimal string in major units of the row's currency; minutes are whole
numbers; dates are ISO dates, instants ISO 8601 UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.rules import hour_bank, ids
from bot.rules.money import amount_text, hours_text
from bot.views.timefmt import iso_ms
from storage.models import (
    BillingRate,
    Client,
    Contract,
    ContractEvent,
    Invoice,
    Ticket,
    TimeEntry,
)


def _money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else amount_text(minor, currency)


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def client_view(
    client: Client, domains: Sequence[str] = (), products: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "id": client.desk_id,
        "name": client.name,
        "address": client.address,
        "taxId": client.tax_id,
        "email": client.email,
        "currency": client.currency,
        "hourlyRate": _money(client.hourly_rate, client.currency),
        "timeZone": client.time_zone,
        "taxes": list(client.taxes or []),
        "paymentDays": client.payment_days,
        "domains": list(domains),
        "products": list(products),
        "webhookUrl": client.webhook_url,
        "createdAt": iso_ms(client.created_at),
        "updatedAt": iso_ms(client.updated_at),
    }


def client_ref(client: Client | None) -> dict[str, str] | None:
    return None if client is None else {"id": client.desk_id, "name": client.name}


def contract_view(contract: Contract, client: Client) -> dict[str, Any]:
    currency = client.currency
    view: dict[str, Any] = {
        "id": contract.desk_id,
        "client": client_ref(client),
        "name": contract.name,
        "kind": contract.kind,
        "period": contract.period,
        "startsOn": _day(contract.starts_on),
        "endsOn": _day(contract.ends_on),
        "timeZone": contract.time_zone,
        "currency": currency,
        "rounding": {"increment": contract.rounding_increment, "mode": contract.rounding_mode},
        "scope": contract.scope,
        "createdAt": iso_ms(contract.created_at),
        "updatedAt": iso_ms(contract.updated_at),
    }
    if contract.kind == "time_based":
        view |= {
            "hoursPerPeriod": hours_text(contract.minutes_per_period),
            "minutesPerPeriod": contract.minutes_per_period,
            "hourlyRate": _money(contract.hourly_rate, currency),
            "overageRate": _money(contract.overage_rate, currency),
            "rollover": contract.rollover,
            "rolloverCapHours": (
                None if contract.rollover_cap is None else hours_text(contract.rollover_cap)
            ),
        }
    else:
        view["fee"] = _money(contract.fee, currency)
    return view


def contract_ref(contract: Contract | None) -> dict[str, str] | None:
    return None if contract is None else {"id": contract.desk_id, "name": contract.name}


def ledger_view(
    contract: Contract,
    entries: Sequence[hour_bank.Entry],
    through: dt.date,
    time_entries: Mapping[int, TimeEntry],
    events: Sequence[ContractEvent] = (),
) -> dict[str, Any]:
    """Every entry with the period's balance after it, each period's sums, and the balance
    on ``through``: what anyone can add up again."""
    return {
        "contract": contract_ref(contract),
        "through": through.isoformat(),
        "balanceMinutes": hour_bank.balance_on(entries, through),
        "entries": [
            {
                "kind": entry.kind.value,
                "date": entry.day.isoformat(),
                "periodStart": entry.period.start.isoformat(),
                "changeMinutes": entry.change,
                "minutes": entry.minutes,
                "balanceMinutes": entry.balance,
                "timeEntry": _entry_ref(time_entries, entry.entry_id),
            }
            for entry in entries
        ],
        "periods": [
            {
                "start": totals.period.start.isoformat(),
                "end": totals.period.last_day.isoformat(),
                "closed": totals.closed,
                "rolloverMinutes": totals.rolled_in,
                "purchaseMinutes": totals.purchased,
                "drawMinutes": totals.drawn,
                "overageMinutes": totals.overage,
                "expiryMinutes": totals.expired,
                "balanceMinutes": totals.balance,
            }
            for totals in hour_bank.totals(entries, through)
        ],
        "events": [event_view(event) for event in events],
    }


def _entry_ref(time_entries: Mapping[int, TimeEntry], entry_id: int | None) -> str | None:
    found = time_entries.get(entry_id) if entry_id is not None else None
    return found.desk_id if found is not None else None


def event_view(event: ContractEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "periodStart": event.period_start.isoformat(),
        "at": iso_ms(event.at),
        **{k: v for k, v in (event.detail or {}).items() if k not in ("periodStart",)},
    }


def entry_view(
    entry: TimeEntry,
    ticket: Ticket | None,
    contract: Contract | None,
    client: Client | None,
    invoice: Invoice | None,
) -> dict[str, Any]:
    currency = client.currency if client else None
    return {
        "id": entry.desk_id,
        "ticket": (
            None
            if ticket is None
            else {"id": ticket.desk_id, "publicId": ids.public_id(ticket.id)}
        ),
        "technician": entry.technician,
        "minutes": entry.minutes,
        "description": entry.description,
        "billable": entry.billable,
        "startedAt": iso_ms(entry.started_at),
        "client": client_ref(client),
        "contract": contract_ref(contract),
        "invoice": (
            None
            if invoice is None
            else {"id": invoice.desk_id, "number": invoice.number, "status": invoice.status}
        ),
        "billedMinutes": entry.billed_minutes,
        "rate": _money(entry.rate, currency) if currency else None,
        "rateSource": entry.rate_source,
        "createdAt": iso_ms(entry.created_at),
        "updatedAt": iso_ms(entry.updated_at),
    }


def rate_view(rate: BillingRate) -> dict[str, Any]:
    return {
        "technician": rate.technician or None,
        "currency": rate.currency,
        "rate": amount_text(rate.rate, rate.currency),
    }


def line_view(line: Any, currency: str) -> dict[str, Any]:
    return {
        "id": line.desk_id,
        "kind": line.kind,
        "date": _day(line.day),
        "ticket": (
            None
            if line.ticket_public_id is None
            else {"publicId": line.ticket_public_id, "subject": line.ticket_subject}
        ),
        "description": line.description,
        "technician": line.technician,
        "rawMinutes": line.raw_minutes,
        "billedMinutes": line.billed_minutes,
        "billedHours": None if line.billed_minutes is None else hours_text(line.billed_minutes),
        "rate": _money(line.rate, currency),
        "rateSource": line.rate_source,
        "amount": amount_text(line.amount, currency),
        "contract": (
            None
            if line.contract_desk_id is None
            else {"id": line.contract_desk_id, "name": line.contract_name}
        ),
        "periodStart": _day(line.period_start),
        "periodEnd": _day(line.period_end),
        "credits": None,
    }


def invoice_view(
    invoice: Invoice,
    lines: Iterable[Any],
    *,
    credit_for: str | None = None,
    credit_notes: Sequence[str] = (),
    line_refs: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """The invoice as the API returns it and the PDF prints it (bot.billing.pdf); ``lines``
    are InvoiceLine objects or rows of its columns (``BillingRepo.line_rows``)."""
    currency = invoice.currency
    line_views = []
    for line in lines:
        view = line_view(line, currency)
        if line.credits_line_id is not None and line_refs is not None:
            view["credits"] = line_refs.get(line.credits_line_id)
        line_views.append(view)
    return {
        "id": invoice.desk_id,
        "kind": "creditNote" if invoice.kind == "credit_note" else "invoice",
        "number": invoice.number,
        "status": invoice.status,
        "issueDate": _day(invoice.issue_date),
        "dueDate": _day(invoice.due_date),
        "periodStart": _day(invoice.period_start),
        "periodEnd": _day(invoice.period_end),
        "currency": currency,
        "locale": "en",
        "seller": dict(invoice.seller or {}),
        "client": dict(invoice.client_details or {}),
        "creditFor": credit_for,
        "creditNotes": list(credit_notes),
        "lines": line_views,
        "subtotal": amount_text(invoice.subtotal, currency),
        "taxes": [
            {
                "name": tax["name"],
                "rate": tax["rate"],
                "base": amount_text(int(tax["base"]), currency),
                "amount": amount_text(int(tax["amount"]), currency),
            }
            for tax in invoice.taxes or []
        ],
        "taxTotal": amount_text(invoice.tax_total, currency),
        "total": amount_text(invoice.total, currency),
        "rounding": invoice.rounding,
        "issuedAt": iso_ms(invoice.issued_at),
        "paidOn": _day(invoice.paid_on),
        "voidedOn": _day(invoice.voided_on),
        "voidReason": invoice.void_reason,
        "notes": invoice.notes,
        "pdf": invoice.pdf_sha256 is not None,
        "createdAt": iso_ms(invoice.created_at),
    }


def invoice_summary(invoice: Invoice, client: Client | None) -> dict[str, Any]:
    currency = invoice.currency
    return {
        "id": invoice.desk_id,
        "kind": "creditNote" if invoice.kind == "credit_note" else "invoice",
        "number": invoice.number,
        "status": invoice.status,
        "client": client_ref(client),
        "issueDate": _day(invoice.issue_date),
        "periodStart": _day(invoice.period_start),
        "periodEnd": _day(invoice.period_end),
        "currency": currency,
        "total": amount_text(invoice.total, currency),
        "createdAt": iso_ms(invoice.created_at),
    }
