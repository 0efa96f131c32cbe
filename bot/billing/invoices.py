"""Invoices and credit notes: drafts made from what is not yet charged, numbers given when
issued, and nothing changed after.

- **Draft** (``make_draft``): ``bot.rules.invoicing.compose`` over the client's contracts, its
  billable time and the charges live invoices hold. The draft claims its entries
  (``time_entries.invoice_id``) and contract periods (``contract_charges``, unique), so two
  drafts can never bill the same thing; deleting a draft lets them go. A draft has no number.
- **Issue** (``issue``): in one transaction, the next number of the series and the invoice
  date's year (``INV-2026-0001``; ``BillingRepo.next_number``: gapless, since a rolled-back
  issue gives its number back, and unique under concurrent issuing, since the sequence row
  is locked until commit), each entry's billed minutes and rate written onto it, and the
  PDF rendered and stored. From then on the invoice is never deleted and only its status
  changes: ``paid`` (with the date) or ``void`` (unpaid and not credited only; its entries
  and periods may be billed again, and its number stays used). Those dates, like a credit
  note's, default to the client's local date and are never before the issue date.
- **Credit note** (``credit``): in its own series (``CN-2026-0001``), issued at once, taking
  back some or all lines of an issued invoice (each line once), with the same tax rates; the
  note that takes back the last lines takes back what is left of each tax, so an invoice's
  credit notes add up to it to the cent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.billing import contracts as contract_service
from bot.billing.access import not_found
from bot.billing.pdf import render_invoice_pdf
from bot.config import Seller
from bot.errors import ApiError
from bot.rules import ids, invoicing
from bot.rules.billing_periods import local_date
from bot.rules.invoicing import Charge, LineKind, Tax, Unbillable, Work
from bot.rules.money import hours_text, parse_tax_rate
from bot.rules.rounding import RoundingMode, describe
from bot.views.billing import invoice_view
from storage.models import Client, Contract, ContractCharge, Invoice, InvoiceLine
from storage.repos.billing import BillingRepo

INVOICE_SERIES = "INV"
CREDIT_SERIES = "CN"
INVOICE_HINT = (
    "Use an invoice's number (INV-2026-0001), a credit note's (CN-2026-0001) or a draft's id "
    "(inv_…): GET /api/v1/desk/invoices lists them."
)
REST_STATEMENT = (
    "This credit note takes back the invoice's last lines: its taxes are what was left of the "
    "invoice's after the earlier credit notes."
)
# reportlab keeps module state: one render at a time, off the event loop.
_RENDERING = asyncio.Lock()


def number_text(series: str, year: int, sequence: int) -> str:
    """``INV-2026-0001``: the series, the invoice date's year, at least four digits."""
    return f"{series}-{year}-{sequence:04d}"


async def find_invoice(session: AsyncSession, ref: str, *, lock: bool = False) -> Invoice:
    repo = BillingRepo(session)
    if ref.startswith("inv_"):
        invoice = await repo.invoice_by_desk_id(ref, lock=lock)
    else:
        invoice = await repo.invoice_by_number(ref.upper(), lock=lock) if len(ref) <= 32 else None
    if invoice is None:
        raise not_found("Invoice", INVOICE_HINT)
    return invoice


async def view_of(session: AsyncSession, invoice: Invoice) -> dict[str, Any]:
    repo = BillingRepo(session)
    lines = await repo.line_rows(invoice.id)
    credit_for = None
    line_refs: dict[int, str] = {}
    if invoice.credit_for_id is not None:
        original = await repo.invoice(invoice.credit_for_id)
        credit_for = original.number if original else None
        if original is not None:
            line_refs = {line.id: line.desk_id for line in await repo.lines(original.id)}
    notes = [n.number for n in await repo.credit_notes_of(invoice.id) if n.number]
    return invoice_view(
        invoice, lines, credit_for=credit_for, credit_notes=notes, line_refs=line_refs
    )


# -- drafts ---------------------------------------------------------------------------------------


def _rate_of(entry: Any, client: Client, rates: dict[str, int]) -> tuple[int | None, str]:
    """Time on no contract: the client's rate, else the technician's, else the default."""
    if client.hourly_rate is not None:
        return client.hourly_rate, "client"
    if entry.technician in rates:
        return rates[entry.technician], "technician"
    if "" in rates:
        return rates[""], "default"
    return None, "none"


def _period_words(start: dt.date | None, end: dt.date | None) -> str:
    if start is None:
        return ""
    return f"{start.isoformat()} to {end.isoformat()}" if end else f"from {start.isoformat()}"


def _rounding_statement(contracts: Sequence[Contract], used: set[int]) -> str:
    parts = [invoicing.ROUNDING_STATEMENT]
    for contract in contracts:
        if contract.id in used:
            rule = describe(contract.rounding_increment, RoundingMode(contract.rounding_mode))
            parts.append(f"Time on {contract.name}: {rule}, dates in {contract.time_zone}.")
    return " ".join(parts)


def _taxes(taxes: Sequence[dict[str, str]]) -> list[Tax]:
    return [Tax(t["name"], parse_tax_rate(t["rate"])) for t in taxes]


def _stored_taxes(tax_lines: Sequence[invoicing.TaxLine]) -> list[dict[str, Any]]:
    return [
        {"name": t.name, "rate": format(t.rate, "f"), "base": t.base, "amount": t.amount}
        for t in tax_lines
    ]


def client_details(client: Client) -> dict[str, Any]:
    return {
        "id": client.desk_id,
        "name": client.name,
        "address": client.address,
        "taxId": client.tax_id,
        "email": client.email,
    }


async def make_draft(
    session: AsyncSession,
    client: Client,
    fields: dict[str, Any],
    seller: Seller,
    creator: str,
    now: dt.datetime,
) -> Invoice:
    repo = BillingRepo(session)
    contracts = list(await repo.contracts_of(client.id))
    by_id = {c.id: c for c in contracts}
    entries = list(await repo.billable_of_client(client.id))
    rates = await repo.rates_in(client.currency)
    work = []
    for entry in entries:
        rate, source = (None, None) if entry.contract_id else _rate_of(entry, client, rates)
        work.append(
            Work(
                entry.id,
                entry.started_at,
                entry.minutes,
                entry.contract_id if entry.contract_id in by_id else None,
                invoiced=entry.invoice_id is not None,
                rate=rate,
                rate_source=source,
            )
        )
    charged = [
        Charge(c.contract_id, LineKind(c.kind), c.period_start)
        for c in await repo.charges_of_contracts(list(by_id))
    ]
    end = fields["period_end"]
    try:
        draft = invoicing.compose(
            end, [contract_service.terms(c) for c in contracts], work, charged, client.time_zone
        )
    except Unbillable:
        missing = sorted(
            {
                e.technician
                for e in entries
                if e.invoice_id is None
                and not e.contract_id
                and _rate_of(e, client, rates)[0] is None
            }
        )
        raise ApiError(
            409,
            "Some time has no rate",
            f"Time by {', '.join(missing)} is on no contract and {client.name} has no hourly "
            f"rate: set the client's hourlyRate, or a rate in {client.currency} for the "
            "technician or the default (PUT /api/v1/desk/rates).",
        ) from None
    if not draft.lines:
        raise ApiError(
            409,
            "Nothing to invoice",
            f"{client.name} has no billable time and no contract charge up to {end} that is "
            "not on an invoice already.",
        )
    taxes = fields["taxes"] if fields.get("taxes") is not None else list(client.taxes or [])
    figures = invoicing.totals((line.amount for line in draft.lines), _taxes(taxes))
    invoice = Invoice(
        desk_id=ids.new_desk_id("inv"),
        kind="invoice",
        series=INVOICE_SERIES,
        status="draft",
        client_id=client.id,
        currency=client.currency,
        period_start=fields["period_start"],
        period_end=end,
        subtotal=figures.subtotal,
        tax_total=figures.total - figures.subtotal,
        total=figures.total,
        taxes=_stored_taxes(figures.taxes),
        seller=seller.details(),
        client_details=client_details(client),
        notes=fields.get("notes"),
        rounding=_rounding_statement(
            contracts, {line.contract_id for line in draft.lines if line.contract_id}
        ),
        created_by=creator,
        created_at=now,
        updated_at=now,
    )
    await repo.add(invoice)
    by_entry = {entry.id: entry for entry in entries}
    subjects = await repo.ticket_subjects(by_entry[i].ticket_id for i in draft.entry_ids)
    try:
        await repo.add_lines(
            [
                _stored_line(invoice, position, line, by_id, by_entry, subjects)
                for position, line in enumerate(draft.lines)
            ]
        )
        claimed = await repo.claim_entries(list(draft.entry_ids), invoice.id)
        if claimed != len(draft.entry_ids):
            raise _changed_meanwhile()
        for charge in draft.charges:
            session.add(
                ContractCharge(
                    contract_id=charge.contract_id,
                    kind=charge.kind.value,
                    period_start=charge.period_start,
                    invoice_id=invoice.id,
                )
            )
        await session.flush()
    except IntegrityError:
        raise _changed_meanwhile() from None
    return invoice


def _changed_meanwhile() -> ApiError:
    return ApiError(
        409,
        "Another invoice took some of this work meanwhile",
        "Another draft was made for the same client at the same time; list the drafts "
        "(GET /api/v1/desk/invoices?status=draft) and try again.",
    )


def _stored_line(
    invoice: Invoice,
    position: int,
    line: invoicing.Line,
    contracts: dict[int, Contract],
    entries: dict[int, Any],
    subjects: dict[int, str],
) -> dict[str, Any]:
    """The columns of one invoice line (``BillingRepo.add_lines`` inserts them)."""
    contract = contracts.get(line.contract_id) if line.contract_id else None
    entry = entries.get(line.entry_id) if line.entry_id else None
    ticket_id = entry.ticket_id if entry is not None and entry.ticket_id in subjects else None
    period = _period_words(line.period_start, line.period_end)
    if line.kind is LineKind.BANK_PURCHASE:
        description = f"Hour bank: {hours_text(line.billed_minutes or 0)} h, {period}"
    elif line.kind is LineKind.OVERAGE:
        description = f"Overage beyond the hour bank, {period}"
    elif line.kind is LineKind.FIXED_FEE:
        description = f"Fixed fee, {period}" + (
            f": {contract.scope}" if contract and contract.scope else ""
        )
    elif entry is not None and contract is not None and line.amount == 0:
        covered = "within the fixed price" if contract.kind == "fixed_price" else "from the bank"
        description = f"{entry.description} ({covered})"
    else:
        description = entry.description if entry else ""
    return {
        "desk_id": ids.new_desk_id("inl"),
        "invoice_id": invoice.id,
        "position": position,
        "kind": line.kind.value,
        "day": line.day,
        "time_entry_id": line.entry_id,
        "ticket_public_id": ids.public_id(ticket_id) if ticket_id is not None else None,
        "ticket_subject": subjects[ticket_id] if ticket_id is not None else None,
        "description": description,
        "technician": entry.technician if entry else None,
        "raw_minutes": line.raw_minutes,
        "billed_minutes": line.billed_minutes,
        "rate": line.rate,
        "rate_source": line.rate_source,
        "amount": line.amount,
        "contract_id": contract.id if contract else None,
        "contract_desk_id": contract.desk_id if contract else None,
        "contract_name": contract.name if contract else None,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "credits_line_id": None,
    }


async def remove_draft(session: AsyncSession, invoice: Invoice) -> None:
    if invoice.status != "draft":
        raise ApiError(
            409,
            "Issued invoices are never deleted",
            f"{invoice.number} stays; void it (POST …/void) if unpaid, or credit it "
            "(POST …/credit).",
        )
    await BillingRepo(session).remove_draft(invoice)


async def _today(session: AsyncSession, invoice: Invoice, now: dt.datetime) -> dt.date:
    """Today where the client is, as for an issue date (UTC's date is a day off around
    midnight: a credit note or payment dated before the invoice it is about)."""
    client = await BillingRepo(session).client(invoice.client_id)
    return local_date(now, client.time_zone) if client is not None else now.date()


def _not_before_issue(day: dt.date, invoice: Invoice, field: str) -> dt.date:
    """A payment, void or credit note is dated on or after the invoice's issue date."""
    assert invoice.issue_date is not None
    if day < invoice.issue_date:
        raise ApiError(
            400,
            f"{field} is before the invoice's issue date",
            f"{invoice.number} was issued on {invoice.issue_date}; send {field} on or after it.",
            fields={field: "before the invoice's issue date"},
        )
    return day


# -- issuing --------------------------------------------------------------------------------------


async def _store_pdf(session: AsyncSession, invoice: Invoice) -> None:
    view = await view_of(session, invoice)
    async with _RENDERING:
        pdf = await asyncio.to_thread(render_invoice_pdf, view)
    invoice.pdf = pdf
    invoice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()


async def _number(
    session: AsyncSession, invoice: Invoice, series: str, issue_date: dt.date
) -> None:
    sequence = await BillingRepo(session).next_number(series, issue_date.year)
    invoice.series = series
    invoice.year = issue_date.year
    invoice.sequence = sequence
    invoice.number = number_text(series, issue_date.year, sequence)


async def issue(
    session: AsyncSession,
    invoice: Invoice,
    client: Client,
    issue_date: dt.date | None,
    due_date: dt.date | None,
    now: dt.datetime,
) -> Invoice:
    if invoice.status != "draft":
        raise ApiError(
            409,
            "The invoice is issued already",
            f"{invoice.number} was issued on {invoice.issue_date}; it cannot change.",
        )
    repo = BillingRepo(session)
    lines = await repo.lines(invoice.id)
    if not lines:
        raise ApiError(409, "An empty invoice cannot be issued", "Make a draft with lines.")
    issue_date = issue_date or local_date(now, client.time_zone)
    invoice.issue_date = issue_date
    invoice.due_date = due_date or issue_date + dt.timedelta(days=client.payment_days)
    await _number(session, invoice, INVOICE_SERIES, issue_date)
    invoice.status = "issued"
    invoice.issued_at = now
    invoice.updated_at = now
    by_entry = {line.time_entry_id: line for line in lines if line.time_entry_id is not None}
    for entry in await repo.entries_on_invoice(invoice.id):
        line = by_entry.get(entry.id)
        if line is not None:
            entry.billed_minutes = line.billed_minutes
            entry.rate = line.rate
            entry.rate_source = line.rate_source
    await session.flush()
    await _store_pdf(session, invoice)
    await session.flush()
    return invoice


async def mark_paid(
    session: AsyncSession, invoice: Invoice, paid_on: dt.date | None, now: dt.datetime
) -> Invoice:
    if invoice.kind != "invoice" or invoice.status != "issued":
        raise ApiError(
            409,
            f"A {invoice.status} {_noun(invoice)} cannot be marked paid",
            "Only an issued invoice that is neither paid nor void can be.",
        )
    invoice.status = "paid"
    day = paid_on or await _today(session, invoice, now)
    invoice.paid_on = _not_before_issue(day, invoice, "paidOn")
    invoice.updated_at = now
    await session.flush()
    return invoice


async def void(
    session: AsyncSession,
    invoice: Invoice,
    voided_on: dt.date | None,
    reason: str | None,
    now: dt.datetime,
) -> Invoice:
    if invoice.kind != "invoice" or invoice.status != "issued":
        hint = (
            "A paid invoice is corrected with a credit note (POST …/credit)."
            if invoice.status == "paid"
            else "Only an issued, unpaid invoice can be voided; a draft is deleted instead."
        )
        raise ApiError(409, f"A {invoice.status} {_noun(invoice)} cannot be voided", hint)
    repo = BillingRepo(session)
    notes = [note.number for note in await repo.credit_notes_of(invoice.id) if note.number]
    if notes:
        # Voiding frees its lines to be billed again, while the credit notes still give
        # money back for them.
        raise ApiError(
            409,
            "A credited invoice cannot be voided",
            f"{', '.join(notes)} already took back lines of {invoice.number}; credit the rest "
            "(POST …/credit) instead.",
        )
    invoice.status = "void"
    day = voided_on or await _today(session, invoice, now)
    invoice.voided_on = _not_before_issue(day, invoice, "voidedOn")
    invoice.void_reason = reason
    invoice.updated_at = now
    await repo.release_entries(invoice.id)
    await repo.release_charges(invoice.id)
    await session.flush()
    return invoice


def _noun(invoice: Invoice) -> str:
    return "credit note" if invoice.kind == "credit_note" else "invoice"


async def credit(
    session: AsyncSession,
    invoice: Invoice,
    line_refs: list[str] | None,
    reason: str,
    issue_date: dt.date | None,
    creator: str,
    now: dt.datetime,
) -> Invoice:
    if invoice.kind != "invoice" or invoice.status not in ("issued", "paid"):
        raise ApiError(
            409,
            f"A {invoice.status} {_noun(invoice)} cannot be credited",
            "Credit notes take back lines of an issued or paid invoice.",
        )
    repo = BillingRepo(session)
    every = list(await repo.lines(invoice.id))
    lines = every
    if line_refs is not None:
        wanted = set(line_refs)
        unknown = wanted - {line.desk_id for line in lines}
        if unknown:
            raise ApiError(
                400,
                "No such line on the invoice",
                f"{sorted(unknown)[0]} is not a line of {invoice.number}.",
                fields={"lines": "unknown line"},
            )
        lines = [line for line in lines if line.desk_id in wanted]
    credited = await repo.credited_line_ids([line.id for line in every])
    if line_refs is not None and credited & {line.id for line in lines}:
        raise ApiError(
            409,
            "A line is credited already",
            "Each line of an invoice is credited once at most.",
            fields={"lines": "credited already"},
        )
    lines = [line for line in lines if line.id not in credited and line.amount != 0]
    if not lines:
        raise ApiError(
            409,
            "Nothing left to credit",
            f"Every line of {invoice.number} with an amount is credited already.",
        )
    taxes = [Tax(t["name"], parse_tax_rate(t["rate"])) for t in invoice.taxes or []]
    figures = invoicing.totals((-line.amount for line in lines), taxes)
    rounding = invoice.rounding
    taken = {line.id for line in lines}
    if all(line.amount == 0 or line.id in credited or line.id in taken for line in every):
        figures = _the_rest(figures, invoice, await repo.credit_notes_of(invoice.id))
        rounding = f"{rounding} {REST_STATEMENT}"
    issue_date = _not_before_issue(
        issue_date or await _today(session, invoice, now), invoice, "issueDate"
    )
    note = Invoice(
        desk_id=ids.new_desk_id("inv"),
        kind="credit_note",
        series=CREDIT_SERIES,
        status="issued",
        client_id=invoice.client_id,
        currency=invoice.currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issue_date=issue_date,
        due_date=issue_date,
        issued_at=now,
        credit_for_id=invoice.id,
        subtotal=figures.subtotal,
        tax_total=figures.total - figures.subtotal,
        total=figures.total,
        taxes=_stored_taxes(figures.taxes),
        seller=dict(invoice.seller or {}),
        client_details=dict(invoice.client_details or {}),
        notes=reason,
        rounding=rounding,
        created_by=creator,
        created_at=now,
        updated_at=now,
    )
    await _number(session, note, CREDIT_SERIES, issue_date)
    await repo.add(note)
    for position, line in enumerate(lines):
        session.add(
            InvoiceLine(
                desk_id=ids.new_desk_id("inl"),
                invoice_id=note.id,
                position=position,
                kind=LineKind.CREDIT.value,
                day=line.day,
                time_entry_id=line.time_entry_id,
                ticket_public_id=line.ticket_public_id,
                ticket_subject=line.ticket_subject,
                description=f"Credit: {line.description}",
                technician=line.technician,
                raw_minutes=line.raw_minutes,
                billed_minutes=line.billed_minutes,
                rate=line.rate,
                rate_source=line.rate_source,
                amount=-line.amount,
                contract_id=line.contract_id,
                contract_desk_id=line.contract_desk_id,
                contract_name=line.contract_name,
                period_start=line.period_start,
                period_end=line.period_end,
                credits_line_id=line.id,
            )
        )
    await session.flush()
    await _store_pdf(session, note)
    await session.flush()
    return note


def _the_rest(
    figures: invoicing.Totals, invoice: Invoice, notes: Sequence[Invoice]
) -> invoicing.Totals:
    """The credit note that takes back an invoice's last lines takes back what is left of
    each tax (the invoice's less the earlier notes'), not its own rounded percentage: rounded
    note by note, the notes could give back a cent more than the invoice charged."""
    left = [tax["amount"] for tax in invoice.taxes or []]
    for note in notes:
        for position, tax in enumerate(note.taxes or []):
            left[position] += tax["amount"]
    taxes = tuple(
        dataclasses.replace(tax, amount=-rest)
        for tax, rest in zip(figures.taxes, left, strict=True)
    )
    return invoicing.Totals(
        figures.subtotal, taxes, figures.subtotal + sum(tax.amount for tax in taxes)
    )


async def render_draft(view: dict[str, Any]) -> bytes:
    """A draft's PDF, rendered on request (marked DRAFT; never stored)."""
    async with _RENDERING:
        return await asyncio.to_thread(render_invoice_pdf, view)
