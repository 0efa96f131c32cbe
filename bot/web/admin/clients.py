"""The admin clients pages (issue 16): the list with a form for a new client, and a client's
page to edit it (name, address, tax id, email, currency, hourly rate, time zone, taxes,
payment days, email domains, products), through ``bot.billing.clients``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.billing import clients as client_service
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.rules import billing_input
from bot.rules.money import amount_text
from bot.web.admin.billing import (
    Form,
    Spec,
    all_clients,
    errors_of,
    form_fields,
    form_problem,
    form_values,
    listed,
    money,
    not_found_page,
    number_or_text,
    taxes_from_text,
    taxes_text,
)
from bot.web.admin_auth import admin_only, admin_page, csrf_input, notice_from_query
from bot.web.admin_auth import redirect as see_other
from bot.web.html import (
    Html,
    cells,
    fragment,
    path,
    table,
)
from bot.web.sessions import AdminSession
from storage.models import Client
from storage.repos.billing import BillingRepo
from storage.repos.products import ProductRepo

CLIENT_FIELDS = (
    "name",
    "address",
    "taxId",
    "email",
    "currency",
    "hourlyRate",
    "timeZone",
    "taxes",
    "paymentDays",
    "domains",
    "products",
)

# -- clients ------------------------------------------------------------------------------------


def client_data(values: Mapping[str, str], *, creating: bool) -> dict[str, Any]:
    """The client form as the desk API's body (an empty optional field: null; on a new
    client, left out so the defaults apply)."""
    data: dict[str, Any] = {}
    for name in ("name", "address", "taxId", "email", "hourlyRate"):
        if values[name] or not creating:
            data[name] = values[name] or None
    if values["currency"]:
        data["currency"] = values["currency"].upper()
    if values["timeZone"]:
        data["timeZone"] = values["timeZone"]
    if values["paymentDays"]:
        data["paymentDays"] = number_or_text(values["paymentDays"])
    if values["taxes"] or not creating:
        data["taxes"] = taxes_from_text(values["taxes"])
    if values["domains"] or not creating:
        data["domains"] = listed(values["domains"])
    if values["products"] or not creating:
        data["products"] = listed(values["products"])
    return data


def client_values(
    client: Client, domains: Sequence[str], products: Sequence[str]
) -> dict[str, str]:
    return {
        "name": client.name,
        "address": client.address or "",
        "taxId": client.tax_id or "",
        "email": client.email or "",
        "currency": client.currency,
        "hourlyRate": amount_text(client.hourly_rate, client.currency)
        if client.hourly_rate is not None
        else "",
        "timeZone": client.time_zone,
        "taxes": taxes_text(client.taxes or []),
        "paymentDays": str(client.payment_days),
        "domains": ", ".join(domains),
        "products": ", ".join(products),
    }


CLIENT_FORM: tuple[Spec, ...] = (
    ("name", "Name", "Unique, e.g. Acme GmbH.", "text"),
    ("address", "Address", "Printed on its invoices.", "area"),
    ("taxId", "Tax id", "e.g. a VAT number.", "text"),
    ("email", "Email", "Where invoices go.", "email"),
    (
        "currency",
        "Currency",
        "ISO 4217, e.g. EUR; fixed once it has contracts or invoices.",
        "text",
    ),
    (
        "hourlyRate",
        "Hourly rate",
        "For time on no contract, e.g. 95.00; empty: the technician's or the default rate.",
        "text",
    ),
    ("timeZone", "Time zone", "IANA, e.g. Europe/Berlin; empty: UTC.", "text"),
    ("taxes", "Taxes", "Name and percent, comma-separated, e.g. VAT 19, City tax 1.5.", "text"),
    ("paymentDays", "Payment days", "Days from issue to due date; empty: 14.", "numeric"),
    (
        "domains",
        "Email domains",
        "Tickets from these requester domains bill to this client, e.g. acme.test.",
        "text",
    ),
)


def client_form(
    admin_session: AdminSession,
    form: Form,
    product_slugs: Sequence[str],
    *,
    action: str,
    heading: str,
    button: str,
) -> Html:
    known = ", ".join(product_slugs) or "none registered"
    products = (
        "products",
        "Products",
        f"Slugs whose tickets bill to it, comma-separated ({known}).",
        "text",
    )
    return fragment(
        '<section class="card" aria-labelledby="client-form-heading">'
        '<h2 id="client-form-heading">{heading}</h2>'
        '<form class="stacked" method="post" action="{action}" novalidate>{csrf}{general}'
        "{fields}"
        '<button type="submit">{button}</button></form></section>',
        heading=heading,
        action=action,
        csrf=csrf_input(admin_session),
        general=form_problem(form.errors),
        button=button,
        fields=form_fields(form, (*CLIENT_FORM, products)),
    )


async def _product_slugs(session: AsyncSession) -> list[str]:
    return [p.slug for p in await ProductRepo(session).all()]


async def clients_page(
    request: web.Request,
    admin_session: AdminSession,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[DB].session() as session:
        clients = await all_clients(session)
        domains = await BillingRepo(session).domains([c.id for c in clients])
        products = await ProductRepo(session).all()
    rows = [
        cells(
            fragment(
                '<a href="{href}">{name}</a>',
                href=path("admin", "clients", c.desk_id),
                name=c.name,
            ),
            c.currency,
            money(c.hourly_rate, c.currency),
            taxes_text(c.taxes or []) or "none",
            ", ".join(domains.get(c.id, [])) or "—",
            ", ".join(p.slug for p in products if p.client_id == c.id) or "—",
            fragment(
                '<a href="{c}">Contracts</a> · <a href="{i}">Invoices</a>',
                c=path("admin", "contracts", query={"client": c.desk_id}),
                i=path("admin", "invoices", query={"client": c.desk_id}),
            ),
        )
        for c in clients
    ]
    content = fragment(
        "<h1>Clients</h1>{notice}<p>The organisations tickets are billed to: by product, by "
        "the requester's email domain, or as staff choose on the ticket.</p>{table}{form}",
        notice=notice_from_query(request),
        table=table(
            ["Name", "Currency", "Hourly rate", "Taxes", "Domains", "Products", "Billing"],
            rows,
            caption="Clients, by name",
            empty="No clients yet.",
        ),
        form=client_form(
            admin_session,
            Form(values or {}, errors or {}),
            [p.slug for p in products],
            action="/admin/clients",
            heading="Add a client",
            button="Add client",
        ),
    )
    return admin_page(request, "clients", content, admin_session=admin_session, status=status)


@admin_only
async def list_clients(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await clients_page(request, admin_session)


@admin_only
async def add_client(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    values = form_values(await read_form(request), CLIENT_FIELDS)
    data = client_data(values, creating=True)
    seller = request.app[SETTINGS].seller
    try:
        fields = billing_input.validate_client(data, default_currency=seller.currency)
        products = client_service.products_field(data)
        async with request.app[DB].begin() as session:
            client = await client_service.create_client(
                session, fields, products, request.app[CLOCK]()
            )
            desk_id, name = client.desk_id, client.name
    except ApiError as exc:
        return await clients_page(
            request, admin_session, values=values, errors=errors_of(exc), status=exc.status
        )
    return see_other(
        path("admin", "clients", desk_id, query={"notice": "client-added", "slug": name})
    )


async def _client_page(
    request: web.Request,
    admin_session: AdminSession,
    ref: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[DB].session() as session:
        try:
            client = await client_service.find_client(session, ref)
        except ApiError:
            return not_found_page(request, admin_session, "client", ref, "clients")
        repo = BillingRepo(session)
        domains = (await repo.domains([client.id]))[client.id]
        slugs = await _product_slugs(session)
        own = [p.slug for p in await ProductRepo(session).all() if p.client_id == client.id]
        contracts = list(await repo.contracts_of(client.id))
        shown = values or client_values(client, domains, own)
        name, desk_id = client.name, client.desk_id
    content = fragment(
        '<h1>Client {name}</h1>{notice}<p><code>{id}</code> · <a href="{contracts}">{n} '
        'contract(s)</a> · <a href="{invoices}">Invoices</a> · <a href="/admin/clients">All '
        "clients</a></p>{form}",
        name=name,
        notice=notice_from_query(request),
        id=desk_id,
        n=len(contracts),
        contracts=path("admin", "contracts", query={"client": desk_id}),
        invoices=path("admin", "invoices", query={"client": desk_id}),
        form=client_form(
            admin_session,
            Form(shown, errors or {}),
            slugs,
            action=path("admin", "clients", desk_id),
            heading="Edit the client",
            button="Save client",
        ),
    )
    return admin_page(
        request, f"client {name}", content, admin_session=admin_session, status=status
    )


@admin_only
async def show_client(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await _client_page(request, admin_session, request.match_info["id"])


@admin_only
async def save_client(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    ref = request.match_info["id"]
    values = form_values(await read_form(request), CLIENT_FIELDS)
    data = client_data(values, creating=False)
    seller = request.app[SETTINGS].seller
    try:
        async with request.app[DB].begin() as session:
            client = await client_service.find_client(session, ref)
            fields = billing_input.validate_client(
                data, default_currency=seller.currency, current_currency=client.currency
            )
            products = client_service.products_field(data)
            await client_service.update_client(
                session, client, fields, products, request.app[CLOCK]()
            )
            name = client.name
    except ApiError as exc:
        if exc.status == 404:
            return not_found_page(request, admin_session, "client", ref, "clients")
        return await _client_page(
            request, admin_session, ref, values=values, errors=errors_of(exc), status=exc.status
        )
    return see_other(path("admin", "clients", ref, query={"notice": "client-saved", "slug": name}))
