"""BillingRepo: clients, contracts, time entries, rates, invoices and their numbers.

Every statement the billing services (``bot.billing``) need, and nothing else: the rules of
what may change live there, and the arithmetic in ``bot.rules``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy import insert as plain_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, lock_rows
from storage.models import (
    BillingRate,
    Client,
    ClientDomain,
    Contract,
    ContractCharge,
    ContractEvent,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Product,
    Ticket,
    TimeEntry,
)

_NUL = "\x00"
# Ids per IN (...) list: both databases cap a statement's parameters (32,766 on SQLite,
# 32,767 on PostgreSQL), and a client's year of time can hold more entries than that.
IN_CHUNK = 5_000


class BillingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    # -- clients ------------------------------------------------------------------------------

    async def client(self, client_id: int) -> Client | None:
        return await self.session.get(Client, client_id)

    async def client_by_desk_id(self, desk_id: str) -> Client | None:
        return await self.session.scalar(select(Client).where(Client.desk_id == desk_id))

    async def client_by_name(self, name: str) -> Client | None:
        if _NUL in name:
            return None
        return await self.session.scalar(
            select(Client).where(func.lower(Client.name) == name.lower())
        )

    async def clients(self, *, before_id: int | None, limit: int) -> Sequence[Client]:
        query = select(Client).order_by(Client.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(Client.id < before_id)
        return (await self.session.scalars(query)).all()

    async def client_by_domain(self, domain: str) -> Client | None:
        return await self.session.scalar(
            select(Client).join(ClientDomain).where(ClientDomain.domain == domain)
        )

    async def domains(self, client_ids: Iterable[int]) -> dict[int, list[str]]:
        ids = list(client_ids)
        result: dict[int, list[str]] = {client_id: [] for client_id in ids}
        if not ids:
            return result
        rows = await self.session.execute(
            select(ClientDomain.client_id, ClientDomain.domain)
            .where(ClientDomain.client_id.in_(ids))
            .order_by(ClientDomain.domain)
        )
        for client_id, domain in rows:
            result[client_id].append(domain)
        return result

    async def domain_owners(self, domains: Sequence[str]) -> dict[str, int]:
        if not domains:
            return {}
        rows = await self.session.execute(
            select(ClientDomain.domain, ClientDomain.client_id).where(
                ClientDomain.domain.in_(domains)
            )
        )
        return {domain: client_id for domain, client_id in rows}

    async def set_domains(self, client_id: int, domains: Sequence[str]) -> None:
        await self.session.execute(delete(ClientDomain).where(ClientDomain.client_id == client_id))
        for domain in domains:
            self.session.add(ClientDomain(client_id=client_id, domain=domain))
        await self.session.flush()

    # -- contracts ----------------------------------------------------------------------------

    async def contract(self, contract_id: int) -> Contract | None:
        return await self.session.get(Contract, contract_id)

    async def contract_by_desk_id(self, desk_id: str) -> Contract | None:
        return await self.session.scalar(select(Contract).where(Contract.desk_id == desk_id))

    async def contracts_of(self, client_id: int) -> Sequence[Contract]:
        query = select(Contract).where(Contract.client_id == client_id).order_by(Contract.id)
        return (await self.session.scalars(query)).all()

    async def contracts(
        self, *, client_id: int | None, before_id: int | None, limit: int
    ) -> Sequence[Contract]:
        query = select(Contract).order_by(Contract.id.desc()).limit(limit)
        if client_id is not None:
            query = query.where(Contract.client_id == client_id)
        if before_id is not None:
            query = query.where(Contract.id < before_id)
        return (await self.session.scalars(query)).all()

    async def charges_of_contracts(self, contract_ids: Sequence[int]) -> Sequence[ContractCharge]:
        if not contract_ids:
            return []
        query = select(ContractCharge).where(ContractCharge.contract_id.in_(contract_ids))
        return (await self.session.scalars(query)).all()

    async def charge(
        self, contract_id: int, kind: str, period_start: dt.date
    ) -> ContractCharge | None:
        return await self.session.scalar(
            select(ContractCharge).where(
                ContractCharge.contract_id == contract_id,
                ContractCharge.kind == kind,
                ContractCharge.period_start == period_start,
            )
        )

    async def has_charges(self, contract_id: int) -> bool:
        found = await self.session.scalar(
            select(ContractCharge.id).where(ContractCharge.contract_id == contract_id).limit(1)
        )
        return found is not None

    async def has_entries(self, contract_id: int) -> bool:
        found = await self.session.scalar(
            select(TimeEntry.id).where(TimeEntry.contract_id == contract_id).limit(1)
        )
        return found is not None

    async def events_of(self, contract_id: int) -> Sequence[ContractEvent]:
        query = (
            select(ContractEvent)
            .where(ContractEvent.contract_id == contract_id)
            .order_by(ContractEvent.at, ContractEvent.id)
        )
        return (await self.session.scalars(query)).all()

    async def record_event(self, event: ContractEvent) -> int | None:
        """Stores the event unless that contract's period has it already (by any process):
        its id if this call stored it, else None."""
        statement = (
            insert(self.session, ContractEvent)
            .values(
                contract_id=event.contract_id,
                kind=event.kind,
                period_start=event.period_start,
                at=event.at,
                detail=event.detail,
            )
            .on_conflict_do_nothing(index_elements=["contract_id", "kind", "period_start"])
            .returning(ContractEvent.id)
        )
        return await self.session.scalar(statement)

    async def event(self, event_id: int) -> ContractEvent | None:
        return await self.session.get(ContractEvent, event_id)

    # -- time entries -------------------------------------------------------------------------

    async def entry_by_desk_id(self, desk_id: str) -> TimeEntry | None:
        return await self.session.scalar(select(TimeEntry).where(TimeEntry.desk_id == desk_id))

    async def entries_of_ticket(self, ticket_id: int) -> Sequence[TimeEntry]:
        query = (
            select(TimeEntry)
            .where(TimeEntry.ticket_id == ticket_id)
            .order_by(TimeEntry.started_at, TimeEntry.id)
        )
        return (await self.session.scalars(query)).all()

    async def entries_of_contract(
        self, contract_id: int, *, billable_only: bool = True
    ) -> Sequence[TimeEntry]:
        query = (
            select(TimeEntry)
            .where(TimeEntry.contract_id == contract_id)
            .order_by(TimeEntry.started_at, TimeEntry.id)
        )
        if billable_only:
            query = query.where(TimeEntry.billable.is_(True))
        return (await self.session.scalars(query)).all()

    async def billable_of_client(self, client_id: int) -> Sequence[Any]:
        """Every billable entry billed to the client, invoiced or not (a bank's ledger needs
        its earlier draws): the columns an invoice draft reads, as rows (a client's year can
        hold tens of thousands; ORM objects cost ten times as much to load)."""
        query = (
            select(
                TimeEntry.id,
                TimeEntry.ticket_id,
                TimeEntry.technician,
                TimeEntry.minutes,
                TimeEntry.description,
                TimeEntry.started_at,
                TimeEntry.contract_id,
                TimeEntry.invoice_id,
            )
            .where(TimeEntry.client_id == client_id, TimeEntry.billable.is_(True))
            .order_by(TimeEntry.started_at, TimeEntry.id)
        )
        return (await self.session.execute(query)).all()

    async def open_entries_of_ticket(self, ticket_id: int) -> Sequence[TimeEntry]:
        query = select(TimeEntry).where(
            TimeEntry.ticket_id == ticket_id, TimeEntry.invoice_id.is_(None)
        )
        return (await self.session.scalars(query)).all()

    async def ticket_subjects(self, ticket_ids: Iterable[int]) -> dict[int, str]:
        """The subjects of these tickets, by id (what an invoice line copies)."""
        ids = list(set(ticket_ids))
        found: dict[int, str] = {}
        for start in range(0, len(ids), IN_CHUNK):
            rows = await self.session.execute(
                select(Ticket.id, Ticket.subject).where(
                    Ticket.id.in_(ids[start : start + IN_CHUNK])
                )
            )
            found.update({number: subject for number, subject in rows})
        return found

    async def add_lines(self, lines: Sequence[dict[str, Any]]) -> None:
        """Insert invoice lines given as column values, in one executemany (ORM bulk insert:
        no object per line)."""
        if lines:
            await self.session.execute(plain_insert(InvoiceLine), list(lines))

    async def tickets(self, ticket_ids: Iterable[int]) -> dict[int, Ticket]:
        ids = set(ticket_ids)
        if not ids:
            return {}
        rows = await self.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))
        return {ticket.id: ticket for ticket in rows}

    async def claim_entries(self, entry_ids: Sequence[int], invoice_id: int) -> int:
        """Puts the entries on the invoice where they are on none; how many were."""
        claimed = 0
        for start in range(0, len(entry_ids), IN_CHUNK):
            result = await self.session.execute(
                update(TimeEntry)
                .where(
                    TimeEntry.id.in_(entry_ids[start : start + IN_CHUNK]),
                    TimeEntry.invoice_id.is_(None),
                )
                .values(invoice_id=invoice_id)
                .execution_options(synchronize_session=False)
            )
            claimed += int(getattr(result, "rowcount", 0))
        return claimed

    async def release_entries(self, invoice_id: int) -> None:
        await self.session.execute(
            update(TimeEntry)
            .where(TimeEntry.invoice_id == invoice_id)
            .values(invoice_id=None, billed_minutes=None, rate=None, rate_source=None)
            .execution_options(synchronize_session=False)
        )

    async def entries_on_invoice(self, invoice_id: int) -> Sequence[TimeEntry]:
        query = select(TimeEntry).where(TimeEntry.invoice_id == invoice_id)
        return (await self.session.scalars(query)).all()

    # -- rates --------------------------------------------------------------------------------

    async def rates(self) -> Sequence[BillingRate]:
        query = select(BillingRate).order_by(BillingRate.technician, BillingRate.currency)
        return (await self.session.scalars(query)).all()

    async def rate(self, technician: str, currency: str) -> BillingRate | None:
        return await self.session.scalar(
            select(BillingRate).where(
                BillingRate.technician == technician, BillingRate.currency == currency
            )
        )

    async def rates_in(self, currency: str) -> dict[str, int]:
        rows = await self.session.execute(
            select(BillingRate.technician, BillingRate.rate).where(BillingRate.currency == currency)
        )
        return {technician: rate for technician, rate in rows}

    async def set_rate(self, technician: str, currency: str, rate: int | None) -> None:
        await self.session.execute(
            delete(BillingRate).where(
                BillingRate.technician == technician, BillingRate.currency == currency
            )
        )
        if rate is not None:
            self.session.add(BillingRate(technician=technician, currency=currency, rate=rate))
        await self.session.flush()

    # -- invoices -----------------------------------------------------------------------------

    async def invoice_by_desk_id(self, desk_id: str, *, lock: bool = False) -> Invoice | None:
        query = select(Invoice).where(Invoice.desk_id == desk_id)
        if lock:
            query = lock_rows(self.session, query).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def invoice_by_number(self, number: str, *, lock: bool = False) -> Invoice | None:
        if _NUL in number:
            return None
        query = select(Invoice).where(Invoice.number == number)
        if lock:
            query = lock_rows(self.session, query).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def invoice(self, invoice_id: int) -> Invoice | None:
        return await self.session.get(Invoice, invoice_id)

    async def invoices(
        self,
        *,
        client_id: int | None,
        status: str | None,
        before_id: int | None,
        limit: int,
    ) -> Sequence[Invoice]:
        query = select(Invoice).order_by(Invoice.id.desc()).limit(limit)
        if client_id is not None:
            query = query.where(Invoice.client_id == client_id)
        if status is not None:
            query = query.where(Invoice.status == status)
        if before_id is not None:
            query = query.where(Invoice.id < before_id)
        return (await self.session.scalars(query)).all()

    async def line_rows(self, invoice_id: int) -> Sequence[Any]:
        """An invoice's lines in order, as rows with the columns' names (for its view)."""
        query = (
            select(InvoiceLine.__table__)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
        return (await self.session.execute(query)).all()

    async def lines(self, invoice_id: int) -> Sequence[InvoiceLine]:
        query = (
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
        return (await self.session.scalars(query)).all()

    async def credited_line_ids(self, line_ids: Sequence[int]) -> set[int]:
        """Which of these lines a credit note that is not void already takes back."""
        if not line_ids:
            return set()
        rows = await self.session.scalars(
            select(InvoiceLine.credits_line_id)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(InvoiceLine.credits_line_id.in_(line_ids), Invoice.status != "void")
        )
        return {line_id for line_id in rows if line_id is not None}

    async def credit_notes_of(self, invoice_id: int) -> Sequence[Invoice]:
        query = select(Invoice).where(Invoice.credit_for_id == invoice_id).order_by(Invoice.id)
        return (await self.session.scalars(query)).all()

    async def release_charges(self, invoice_id: int) -> None:
        await self.session.execute(
            delete(ContractCharge).where(ContractCharge.invoice_id == invoice_id)
        )

    async def remove_draft(self, invoice: Invoice) -> None:
        await self.release_entries(invoice.id)
        await self.release_charges(invoice.id)
        await self.session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
        await self.session.delete(invoice)
        await self.session.flush()

    async def next_number(self, series: str, year: int) -> int:
        """The next number of the series in that year, taken in this transaction: the row
        stays locked until commit (PostgreSQL), and a rollback gives the number back."""
        await self.session.execute(
            insert(self.session, InvoiceSequence)
            .values(series=series, year=year, last_number=0)
            .on_conflict_do_nothing()
        )
        number = await self.session.scalar(
            update(InvoiceSequence)
            .where(InvoiceSequence.series == series, InvoiceSequence.year == year)
            .values(last_number=InvoiceSequence.last_number + 1)
            .returning(InvoiceSequence.last_number)
        )
        assert number is not None
        return int(number)

    async def report(
        self,
        *,
        start: dt.datetime | None,
        end: dt.datetime | None,
        technician: str | None,
        client_id: int | None,
        billable: bool | None,
    ) -> Sequence[TimeEntry]:
        """Time entries of live tickets started in [start, end), filtered."""
        query = (
            select(TimeEntry)
            .join(Ticket, Ticket.id == TimeEntry.ticket_id)
            .where(Ticket.deleted_at.is_(None))
            .order_by(TimeEntry.started_at, TimeEntry.id)
        )
        if start is not None:
            query = query.where(TimeEntry.started_at >= start)
        if end is not None:
            query = query.where(TimeEntry.started_at < end)
        if technician is not None:
            query = query.where(TimeEntry.technician == technician)
        if client_id is not None:
            query = query.where(TimeEntry.client_id == client_id)
        if billable is not None:
            query = query.where(TimeEntry.billable.is_(billable))
        return (await self.session.scalars(query)).all()

    async def adopt_entries(
        self, client_id: int, product_ids: Sequence[int], domains: Sequence[str]
    ) -> int:
        """Gives the client the entries logged while their ticket billed to nobody: not
        invoiced, no client, on a ticket staff assigned to no client whose product is one of
        ``product_ids`` or whose requester's domain is one of ``domains``. How many."""
        matches: list[ColumnElement[bool]] = []
        if product_ids:
            matches.append(Ticket.product_id.in_(product_ids))
        billed_products = select(Product.id).where(Product.client_id.is_not(None))
        for domain in domains:
            # By domain only where the product names no client (the product comes first).
            matches.append(
                func.lower(Ticket.submitter_email).like(f"%@{domain}")
                & (Ticket.product_id.is_(None) | Ticket.product_id.not_in(billed_products))
            )
        if not matches:
            return 0
        tickets = select(Ticket.id).where(Ticket.client_id.is_(None), or_(*matches))
        result = await self.session.execute(
            update(TimeEntry)
            .where(
                TimeEntry.client_id.is_(None),
                TimeEntry.invoice_id.is_(None),
                TimeEntry.ticket_id.in_(tickets),
            )
            .values(client_id=client_id)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))
