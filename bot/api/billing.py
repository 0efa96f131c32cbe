"""The billing part of the desk API (seed 003; issue 16): time on tickets, clients,
contracts with their hour-bank ledgers, rates and invoices, under /api/v1/desk behind desk
keys (``bot.api.desk``); seed 003's own ``POST /api/tickets/{id}/time`` and
``/comments`` beside them. docs/desk-api.md describes every field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from bot.api import desk
from bot.api.desk import DESK_KEY
from bot.appkeys import CLOCK, DB, SETTINGS
from bot.billing import bank_webhook, time_entries
from bot.billing import clients as client_service
from bot.billing import contracts as contract_service
from bot.billing import invoices as invoice_service
from bot.billing.access import require_billing
from bot.billing.csv_export import invoice_lines_csv
from bot.errors import ApiError
from bot.http.auth import authenticate_desk_key
from bot.http.bodies import json_response, read_json_object
from bot.http.cursor import decode_cursor, encode_cursor
from bot.rules import billing_input, desk_input, ids
from bot.tickets import desk as desk_tickets
from bot.tickets.audit import Actor
from bot.views import billing as views
from storage.models import Client, Contract, Invoice, Ticket, TimeEntry
from storage.repos.billing import BillingRepo
from storage.repos.products import ProductRepo

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _now(request: web.Request) -> dt.datetime:
    return request.config_dict[CLOCK]()


def _billing(request: web.Request) -> str:
    """The caller, who must hold an unscoped key; returns the technician name."""
    scope = request[DESK_KEY]
    require_billing(scope)
    return scope.name


def _page(request: web.Request) -> tuple[int, int | None]:
    limit = desk_input.parse_limit(request.query.get("limit"))
    cursor = request.query.get("cursor")
    return limit, decode_cursor(cursor) if cursor else None


def _paged(name: str, rows: Sequence[Any], limit: int, views_: list[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {name: views_[:limit], "hasMore": len(rows) > limit}
    if len(rows) > limit:
        body["nextCursor"] = encode_cursor(rows[limit - 1].id)
    return body


# -- time on a ticket -----------------------------------------------------------------------------


async def _entry_views(
    repo: BillingRepo, ticket: Ticket | None, entries: Sequence[TimeEntry]
) -> list[dict[str, Any]]:
    contracts: dict[int, Contract | None] = {}
    clients: dict[int, Client | None] = {}
    invoices: dict[int, Invoice | None] = {}
    tickets = {ticket.id: ticket} if ticket else await repo.tickets(e.ticket_id for e in entries)
    result = []
    for entry in entries:
        if entry.contract_id and entry.contract_id not in contracts:
            contracts[entry.contract_id] = await repo.contract(entry.contract_id)
        if entry.client_id and entry.client_id not in clients:
            clients[entry.client_id] = await repo.client(entry.client_id)
        if entry.invoice_id and entry.invoice_id not in invoices:
            invoices[entry.invoice_id] = await repo.invoice(entry.invoice_id)
        result.append(
            views.entry_view(
                entry,
                tickets.get(entry.ticket_id),
                contracts.get(entry.contract_id) if entry.contract_id else None,
                clients.get(entry.client_id) if entry.client_id else None,
                invoices.get(entry.invoice_id) if entry.invoice_id else None,
            )
        )
    return result


async def log_time(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    fields = billing_input.validate_time_entry(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.find_ticket(session, scope, request.match_info["id"])
        entry = await time_entries.log_time(
            session, scope.name, ticket, fields, _now(request), actor=Actor.of(scope)
        )
        [view] = await _entry_views(BillingRepo(session), ticket, [entry])
    return web.json_response(
        view,
        status=201,
        headers={"Location": f"/api/v1/desk/tickets/{ticket.desk_id}/time/{entry.desk_id}"},
    )


async def list_time(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        ticket = await desk_tickets.find_ticket(
            session, request[DESK_KEY], request.match_info["id"]
        )
        repo = BillingRepo(session)
        entries = list(await repo.entries_of_ticket(ticket.id))
        client = await client_service.client_for_ticket(session, ticket)
        body = {
            "ticket": {"id": ticket.desk_id, "publicId": ids.public_id(ticket.id)},
            "client": views.client_ref(client),
            "entries": await _entry_views(repo, ticket, entries),
            "totals": time_entries.totals(entries),
        }
    return json_response(body)


async def edit_time(request: web.Request) -> web.Response:
    fields = billing_input.validate_time_entry(await read_json_object(request), partial=True)
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.find_ticket(
            session, request[DESK_KEY], request.match_info["id"]
        )
        entry = await time_entries.find_entry(session, ticket, request.match_info["entry"])
        await time_entries.edit_time(
            session, ticket, entry, fields, _now(request), actor=Actor.of(request[DESK_KEY])
        )
        [view] = await _entry_views(BillingRepo(session), ticket, [entry])
    return web.json_response(view)


async def delete_time(request: web.Request) -> web.Response:
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.find_ticket(
            session, request[DESK_KEY], request.match_info["id"]
        )
        entry = await time_entries.find_entry(session, ticket, request.match_info["entry"])
        await time_entries.delete_time(
            session, ticket, entry, _now(request), actor=Actor.of(request[DESK_KEY])
        )
    return web.json_response({"success": True, "message": "Time entry deleted"})


async def assign_client(request: web.Request) -> web.Response:
    """PUT /desk/tickets/{id}/client ``{"client": "cli_…" | null}``."""
    _billing(request)
    ref = billing_input.validate_client_choice(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.find_ticket(
            session, request[DESK_KEY], request.match_info["id"]
        )
        chosen = await client_service.find_client(session, ref) if ref else None
        client = await client_service.assign_ticket(
            session, ticket, chosen, _now(request), actor=Actor.of(request[DESK_KEY])
        )
        body = {
            "ticket": {"id": ticket.desk_id, "publicId": ids.public_id(ticket.id)},
            "client": views.client_ref(client),
            "chosenByStaff": ticket.client_id is not None,
        }
    return web.json_response(body)


async def time_report(request: web.Request) -> web.Response:
    """GET /desk/time: entries across tickets, filtered, with totals per technician and per
    period (day, week or month of ``timeZone``)."""
    _billing(request)
    query = billing_input.validate_time_query(request.query)
    limit, before_id = _page(request)
    async with request.config_dict[DB].session() as session:
        repo = BillingRepo(session)
        client_id = None
        if query["client"]:
            client_id = (await client_service.find_client(session, query["client"])).id
        rows = await repo.report(
            start=query["start"],
            end=query["end"],
            technician=query["technician"],
            client_id=client_id,
            billable=query["billable"],
        )
        page = [row for row in rows if before_id is None or row.id < before_id]
        page.sort(key=lambda row: row.id, reverse=True)
        shown = page[: limit + 1]
        body = _paged("entries", shown, limit, await _entry_views(repo, None, shown[:limit]))
        body["totals"] = time_entries.report_totals(rows, query["group"], query["zone"])
    return json_response(body)


# -- clients --------------------------------------------------------------------------------------


async def _client_view(session: Any, client: Client) -> dict[str, Any]:
    domains = (await BillingRepo(session).domains([client.id]))[client.id]
    products = [p.slug for p in await ProductRepo(session).all() if p.client_id == client.id]
    return views.client_view(client, domains, products)


async def list_clients(request: web.Request) -> web.Response:
    _billing(request)
    limit, before_id = _page(request)
    async with request.config_dict[DB].session() as session:
        rows = await BillingRepo(session).clients(before_id=before_id, limit=limit + 1)
        shown = [await _client_view(session, c) for c in rows[:limit]]
    return json_response(_paged("clients", rows, limit, shown))


async def create_client(request: web.Request) -> web.Response:
    _billing(request)
    data = await read_json_object(request)
    seller = request.config_dict[SETTINGS].seller
    fields = billing_input.validate_client(data, default_currency=seller.currency)
    products = client_service.products_field(data)
    webhook = bank_webhook.validate(data)
    async with request.config_dict[DB].begin() as session:
        client = await client_service.create_client(session, fields, products, _now(request))
        secret = bank_webhook.apply(request.config_dict[SETTINGS], client, webhook)
        view = await _client_view(session, client)
    if secret is not None:
        view[bank_webhook.SECRET_FIELD] = secret  # shown this once
    return web.json_response(
        view, status=201, headers={"Location": f"/api/v1/desk/clients/{client.desk_id}"}
    )


async def show_client(request: web.Request) -> web.Response:
    _billing(request)
    async with request.config_dict[DB].session() as session:
        client = await client_service.find_client(session, request.match_info["id"])
        view = await _client_view(session, client)
    return json_response(view)


async def update_client(request: web.Request) -> web.Response:
    _billing(request)
    data = await read_json_object(request)
    seller = request.config_dict[SETTINGS].seller
    async with request.config_dict[DB].begin() as session:
        client = await client_service.find_client(session, request.match_info["id"])
        fields = billing_input.validate_client(
            data, default_currency=seller.currency, current_currency=client.currency
        )
        products = client_service.products_field(data)
        webhook = bank_webhook.validate(data)
        await client_service.update_client(session, client, fields, products, _now(request))
        secret = bank_webhook.apply(request.config_dict[SETTINGS], client, webhook)
        view = await _client_view(session, client)
    if secret is not None:
        view[bank_webhook.SECRET_FIELD] = secret  # shown this once
    return web.json_response(view)


# -- contracts ------------------------------------------------------------------------------------


async def list_contracts(request: web.Request) -> web.Response:
    _billing(request)
    limit, before_id = _page(request)
    async with request.config_dict[DB].session() as session:
        repo = BillingRepo(session)
        client_id = None
        if request.query.get("client"):
            client_id = (await client_service.find_client(session, request.query["client"])).id
        rows = await repo.contracts(client_id=client_id, before_id=before_id, limit=limit + 1)
        shown = []
        for contract in rows[:limit]:
            client = await repo.client(contract.client_id)
            assert client is not None
            shown.append(views.contract_view(contract, client))
    return json_response(_paged("contracts", rows, limit, shown))


async def create_contract(request: web.Request) -> web.Response:
    _billing(request)
    data = await read_json_object(request)
    ref = billing_input.validate_client_ref(data)
    async with request.config_dict[DB].begin() as session:
        client = await client_service.find_client(session, ref)
        fields = billing_input.validate_contract(
            data, currency=client.currency, default_zone=client.time_zone
        )
        contract = await contract_service.create_contract(session, client, fields, _now(request))
        view = views.contract_view(contract, client)
    return web.json_response(
        view, status=201, headers={"Location": f"/api/v1/desk/contracts/{contract.desk_id}"}
    )


async def show_contract(request: web.Request) -> web.Response:
    _billing(request)
    async with request.config_dict[DB].session() as session:
        contract = await contract_service.find_contract(session, request.match_info["id"])
        client = await BillingRepo(session).client(contract.client_id)
        assert client is not None
        view = views.contract_view(contract, client)
    return json_response(view)


async def update_contract(request: web.Request) -> web.Response:
    _billing(request)
    data = await read_json_object(request)
    async with request.config_dict[DB].begin() as session:
        contract = await contract_service.find_contract(session, request.match_info["id"])
        client = await BillingRepo(session).client(contract.client_id)
        assert client is not None
        fields = billing_input.validate_contract(
            data,
            currency=client.currency,
            default_zone=client.time_zone,
            current=contract_service.fields_of(contract),
        )
        await contract_service.update_contract(session, contract, fields, _now(request))
        view = views.contract_view(contract, client)
    return web.json_response(view)


async def contract_ledger(request: web.Request) -> web.Response:
    """The hour bank through a date (default: today in the contract's time zone)."""
    _billing(request)
    through = billing_input.validate_through(request.query)
    async with request.config_dict[DB].session() as session:
        contract = await contract_service.find_contract(session, request.match_info["id"])
        if contract.kind != "time_based":
            raise ApiError(
                409,
                "A fixed-price contract has no hour bank",
                "Its time is listed under GET /api/v1/desk/time?client=….",
            )
        through = through or contract_service.today(contract, _now(request))
        repo = BillingRepo(session)
        entries = await contract_service.ledger(session, contract, through)
        used = {e.id: e for e in await repo.entries_of_contract(contract.id)}
        events = await repo.events_of(contract.id)
        view = views.ledger_view(contract, entries, through, used, events)
    return json_response(view)


# -- rates ----------------------------------------------------------------------------------------


async def list_rates(request: web.Request) -> web.Response:
    _billing(request)
    async with request.config_dict[DB].session() as session:
        rates = await BillingRepo(session).rates()
        body = {"rates": [views.rate_view(r) for r in rates]}
    return json_response(body)


async def set_rate(request: web.Request) -> web.Response:
    """PUT /desk/rates ``{"technician": name | null, "currency", "rate": "95.00" | null}``."""
    _billing(request)
    technician, currency, rate = billing_input.validate_rate(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        repo = BillingRepo(session)
        await repo.set_rate(technician, currency, rate)
        rates = await repo.rates()
        body = {"rates": [views.rate_view(r) for r in rates]}
    return web.json_response(body)


# -- invoices -------------------------------------------------------------------------------------


async def list_invoices(request: web.Request) -> web.Response:
    _billing(request)
    limit, before_id = _page(request)
    status = request.query.get("status") or None
    if status is not None and status not in ("draft", "issued", "paid", "void"):
        raise ApiError(
            400,
            "Invalid status",
            "Use draft, issued, paid or void.",
            fields={"status": "Invalid status"},
        )
    async with request.config_dict[DB].session() as session:
        repo = BillingRepo(session)
        client_id = None
        if request.query.get("client"):
            client_id = (await client_service.find_client(session, request.query["client"])).id
        rows = await repo.invoices(
            client_id=client_id, status=status, before_id=before_id, limit=limit + 1
        )
        shown = [
            views.invoice_summary(invoice, await repo.client(invoice.client_id))
            for invoice in rows[:limit]
        ]
    return json_response(_paged("invoices", rows, limit, shown))


async def create_invoice(request: web.Request) -> web.Response:
    creator = _billing(request)
    fields = billing_input.validate_draft(await read_json_object(request))
    seller = request.config_dict[SETTINGS].seller
    async with request.config_dict[DB].begin() as session:
        client = await client_service.find_client(session, fields["client"])
        invoice = await invoice_service.make_draft(
            session, client, fields, seller, creator, _now(request)
        )
        view = await invoice_service.view_of(session, invoice)
    return web.json_response(
        view, status=201, headers={"Location": f"/api/v1/desk/invoices/{invoice.desk_id}"}
    )


async def show_invoice(request: web.Request) -> web.StreamResponse:
    """The invoice as JSON; ``….pdf`` its stored PDF (a draft's, rendered now and marked
    DRAFT); ``….csv`` its lines."""
    _billing(request)
    ref = request.match_info["ref"]
    suffix = None
    for ending in (".pdf", ".csv"):
        if ref.lower().endswith(ending):
            ref, suffix = ref[: -len(ending)], ending
    async with request.config_dict[DB].session() as session:
        invoice = await invoice_service.find_invoice(session, ref)
        view = await invoice_service.view_of(session, invoice)
        stored = invoice.pdf
    name = invoice.number or invoice.desk_id
    if suffix == ".csv":
        return web.Response(
            body=invoice_lines_csv(view).encode("utf-8"),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if suffix == ".pdf":
        pdf = stored if stored is not None else await invoice_service.render_draft(view)
        return web.Response(
            body=pdf,
            content_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
        )
    return json_response(view)


async def delete_invoice(request: web.Request) -> web.Response:
    _billing(request)
    async with request.config_dict[DB].begin() as session:
        invoice = await invoice_service.find_invoice(session, request.match_info["ref"], lock=True)
        await invoice_service.remove_draft(session, invoice)
    return web.json_response({"success": True, "message": "Draft deleted"})


async def issue_invoice(request: web.Request) -> web.Response:
    _billing(request)
    issue_date, due_date = billing_input.validate_issue(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        invoice = await invoice_service.find_invoice(session, request.match_info["ref"], lock=True)
        client = await BillingRepo(session).client(invoice.client_id)
        assert client is not None
        await invoice_service.issue(session, invoice, client, issue_date, due_date, _now(request))
        view = await invoice_service.view_of(session, invoice)
    return web.json_response(view)


async def pay_invoice(request: web.Request) -> web.Response:
    _billing(request)
    paid_on, _ = billing_input.validate_status_change(await read_json_object(request), "paidOn")
    async with request.config_dict[DB].begin() as session:
        invoice = await invoice_service.find_invoice(session, request.match_info["ref"], lock=True)
        await invoice_service.mark_paid(session, invoice, paid_on, _now(request))
        view = await invoice_service.view_of(session, invoice)
    return web.json_response(view)


async def void_invoice(request: web.Request) -> web.Response:
    _billing(request)
    day, reason = billing_input.validate_status_change(await read_json_object(request), "voidedOn")
    async with request.config_dict[DB].begin() as session:
        invoice = await invoice_service.find_invoice(session, request.match_info["ref"], lock=True)
        await invoice_service.void(session, invoice, day, reason, _now(request))
        view = await invoice_service.view_of(session, invoice)
    return web.json_response(view)


async def credit_invoice(request: web.Request) -> web.Response:
    creator = _billing(request)
    lines, reason, issue_date = billing_input.validate_credit(await read_json_object(request))
    assert reason is not None
    async with request.config_dict[DB].begin() as session:
        invoice = await invoice_service.find_invoice(session, request.match_info["ref"], lock=True)
        note = await invoice_service.credit(
            session, invoice, lines, reason, issue_date, creator, _now(request)
        )
        view = await invoice_service.view_of(session, note)
    return web.json_response(
        view, status=201, headers={"Location": f"/api/v1/desk/invoices/{note.number}"}
    )


# -- seed 003's paths -----------------------------------------------------------------------------


def _with_desk_key(handler: Handler) -> Handler:
    async def authenticated(request: web.Request) -> web.StreamResponse:
        request[DESK_KEY] = await authenticate_desk_key(request)
        return await handler(request)

    return authenticated


routes = [
    web.post("/desk/tickets/{id}/time", log_time),
    web.get("/desk/tickets/{id}/time", list_time),
    web.patch("/desk/tickets/{id}/time/{entry}", edit_time),
    web.delete("/desk/tickets/{id}/time/{entry}", delete_time),
    web.put("/desk/tickets/{id}/client", assign_client),
    web.get("/desk/time", time_report),
    web.get("/desk/clients", list_clients),
    web.post("/desk/clients", create_client),
    web.get("/desk/clients/{id}", show_client),
    web.patch("/desk/clients/{id}", update_client),
    web.get("/desk/contracts", list_contracts),
    web.post("/desk/contracts", create_contract),
    web.get("/desk/contracts/{id}", show_contract),
    web.patch("/desk/contracts/{id}", update_contract),
    web.get("/desk/contracts/{id}/ledger", contract_ledger),
    web.get("/desk/rates", list_rates),
    web.put("/desk/rates", set_rate),
    web.get("/desk/invoices", list_invoices),
    web.post("/desk/invoices", create_invoice),
    web.get("/desk/invoices/{ref}", show_invoice),
    web.delete("/desk/invoices/{ref}", delete_invoice),
    web.post("/desk/invoices/{ref}/issue", issue_invoice),
    web.post("/desk/invoices/{ref}/pay", pay_invoice),
    web.post("/desk/invoices/{ref}/void", void_invoice),
    web.post("/desk/invoices/{ref}/credit", credit_invoice),
]
root_routes = [
    web.post("/api/tickets/{id}/time", _with_desk_key(log_time)),
    web.post("/api/tickets/{id}/comments", _with_desk_key(desk.comment_on_ticket)),
]
