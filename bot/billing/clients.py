"""Clients: who tickets are billed to, and which client a ticket is billed to.

A ticket's client is the one staff chose for it, else its product's, else the one whose
email domains hold the requester's address (``client_for_ticket``). Time entries carry the
client they were logged for; moving a ticket to another client moves its entries that are
not on an invoice, unless one is on a contract of the old client (then 409: the contract
would no longer be the client's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.billing.access import not_found
from bot.errors import ApiError
from bot.rules import ids
from bot.tickets import audit
from storage.models import Client, Product, Ticket
from storage.repos.billing import BillingRepo
from storage.repos.products import ProductRepo

CLIENT_HINT = "Use a client's id (cli_…): GET /api/v1/desk/clients lists them."


async def find_client(session: AsyncSession, ref: str) -> Client:
    client = await BillingRepo(session).client_by_desk_id(ref) if ref.startswith("cli_") else None
    if client is None:
        raise not_found("Client", CLIENT_HINT)
    return client


def _name_taken(hint: str) -> ApiError:
    return ApiError(409, "A client has that name", hint, fields={"name": "name is taken"})


async def _check_unique(repo: BillingRepo, name: str | None, client: Client | None) -> None:
    if name is None:
        return
    other = await repo.client_by_name(name)
    if other is not None and other is not client:
        raise _name_taken(
            f"Client names are unique (case aside); {other.desk_id} is called {other.name!r}."
        )


async def _flush_name(session: AsyncSession) -> None:
    """The unique index has the last word on a name: SQL's lower() and Python's differ beyond
    ASCII (so ``_check_unique`` misses "Ò" twice), and another request may take it meanwhile."""
    try:
        await session.flush()
    except IntegrityError:
        raise _name_taken("Client names are unique; choose another.") from None


async def _set_domains(repo: BillingRepo, client: Client, domains: list[str]) -> None:
    owners = await repo.domain_owners(domains)
    taken = sorted(domain for domain, owner in owners.items() if owner != client.id)
    if taken:
        raise ApiError(
            409,
            "Email domain belongs to another client",
            f"{', '.join(taken)} already bills to another client; remove it there first.",
            fields={"domains": f"{taken[0]} is taken"},
        )
    await repo.set_domains(client.id, domains)


async def _set_products(session: AsyncSession, client: Client, slugs: list[str]) -> None:
    products = ProductRepo(session)
    found: list[Product] = []
    for slug in slugs:
        product = await products.by_slug(slug)
        if product is None:
            raise ApiError(
                400,
                f"No product {slug!r}",
                "Send the slugs of existing products (tinydesk products list).",
                fields={"products": f"no product {slug!r}"},
            )
        found.append(product)
    for product in await products.all():
        if product.client_id == client.id and product not in found:
            product.client_id = None
    for product in found:
        product.client_id = client.id


def products_field(data: dict[str, Any]) -> list[str] | None:
    """``products``: the slugs of the products whose tickets bill to the client."""
    value = data.get("products")
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > 100
        or not all(isinstance(slug, str) and 0 < len(slug) <= 64 for slug in value)
    ):
        raise ApiError(
            400,
            "products must be a list of product slugs",
            "Send the slugs of the products whose tickets bill to this client.",
            fields={"products": "products must be a list of product slugs"},
        )
    return list(dict.fromkeys(value))


async def create_client(
    session: AsyncSession, fields: dict[str, Any], products: list[str] | None, now: dt.datetime
) -> Client:
    repo = BillingRepo(session)
    domains = fields.pop("domains", None) or []
    await _check_unique(repo, fields.get("name"), None)
    client = Client(desk_id=ids.new_desk_id("cli"), created_at=now, updated_at=now, **fields)
    session.add(client)
    await _flush_name(session)
    await _set_domains(repo, client, domains)
    if products is not None:
        await _set_products(session, client, products)
    await _adopt(session, client)
    return client


async def _adopt(session: AsyncSession, client: Client) -> None:
    """Time logged before the client existed (or had these domains or products) bills to it
    now, as the ticket would if the time were logged today."""
    repo = BillingRepo(session)
    product_ids = [p.id for p in await ProductRepo(session).all() if p.client_id == client.id]
    domains = (await repo.domains([client.id]))[client.id]
    await repo.adopt_entries(client.id, product_ids, domains)


async def update_client(
    session: AsyncSession,
    client: Client,
    fields: dict[str, Any],
    products: list[str] | None,
    now: dt.datetime,
) -> Client:
    repo = BillingRepo(session)
    domains = fields.pop("domains", None)
    if "currency" in fields and fields["currency"] != client.currency:
        if await repo.contracts_of(client.id) or await repo.invoices(
            client_id=client.id, status=None, before_id=None, limit=1
        ):
            raise ApiError(
                409,
                "The client's currency is fixed",
                "A client with contracts or invoices keeps its currency; make a new client.",
                fields={"currency": "currency cannot change"},
            )
    await _check_unique(repo, fields.get("name"), client)
    for key, value in fields.items():
        setattr(client, key, value)
    client.updated_at = now
    await _flush_name(session)
    if domains is not None:
        await _set_domains(repo, client, domains)
    if products is not None:
        await _set_products(session, client, products)
    await session.flush()
    if domains is not None or products is not None:
        await _adopt(session, client)
    return client


async def client_for_ticket(session: AsyncSession, ticket: Ticket) -> Client | None:
    """Staff's choice, else the product's client, else the requester's email domain's."""
    repo = BillingRepo(session)
    if ticket.client_id is not None:
        return await repo.client(ticket.client_id)
    if ticket.product_id is not None:
        product = await ProductRepo(session).by_id(ticket.product_id)
        if product is not None and product.client_id is not None:
            client = await repo.client(product.client_id)
            if client is not None:
                return client
    domain = ticket.submitter_email.rpartition("@")[2].lower()
    return await repo.client_by_domain(domain) if domain else None


def _named(client: Client | None) -> str | None:
    return f"{client.name} ({client.desk_id})" if client is not None else None


async def assign_ticket(
    session: AsyncSession,
    ticket: Ticket,
    client: Client | None,
    now: dt.datetime,
    *,
    actor: audit.Actor,
) -> Client | None:
    """Bills the ticket to ``client`` (None: back to its product's or domain's); the staff
    choice is audited."""
    repo = BillingRepo(session)
    before = await repo.client(ticket.client_id) if ticket.client_id is not None else None
    await audit.record_changes(
        session, actor, ticket, {"client": _named(before)}, {"client": _named(client)}, now
    )
    ticket.client_id = client.id if client is not None else None
    target = await client_for_ticket(session, ticket)
    target_id = target.id if target is not None else None
    moving = [e for e in await repo.open_entries_of_ticket(ticket.id) if e.client_id != target_id]
    on_contract = [e for e in moving if e.contract_id is not None]
    if on_contract:
        raise ApiError(
            409,
            "Time on this ticket is on the old client's contract",
            f"{len(on_contract)} time entries not yet invoiced are on a contract of the "
            "client the ticket bills to now; unlink them (PATCH …/time/{id} with "
            '"contract": null) or delete them first.',
        )
    for entry in moving:
        entry.client_id = target_id
        entry.updated_at = now
    ticket.updated_at = now
    await session.flush()
    return target
