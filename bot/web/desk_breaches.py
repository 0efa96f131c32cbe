"""The workspace's SLA breaches (``/desk/breaches``, seed 003's Tickets → SLA Breaches): the
tickets of the signed-in person's products whose promise is broken at the request's clock,
or with "due within" the ones about to break it. The same query, rules and paging as
``GET /api/v1/desk/sla/breaches`` (bot.tickets.sla_lists), rendered by the admin console's
breaches pieces (bot.web.admin.breaches), each ticket linked to its workspace page."""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import DB
from bot.staff.sessions import SignedIn
from bot.tickets import desk
from bot.web.admin.breaches import FILTERS, breaches_content, list_query, read_breaches
from bot.web.desk_auth import desk_page, staff_only, staff_scope
from bot.web.html import path
from storage.repos.products import ProductRepo


@staff_only()
async def list_breaches(request: web.Request, signed_in: SignedIn) -> web.StreamResponse:
    scope = await staff_scope(request, signed_in)
    query = list_query(request, (*FILTERS, "productSlug", "limit"))
    body, error = await read_breaches(request, desk.visibility(scope), query)
    async with request.app[DB].session() as session:
        products = [p.slug for p in await ProductRepo(session).all() if scope.sees_product(p.id)]
    content = breaches_content(
        body,
        error,
        query,
        here=("desk", "breaches"),
        ticket_path=lambda public_id: path("desk", "tickets", public_id),
        products=sorted(products),
    )
    return desk_page(
        request, "SLA breaches", content, signed_in, status=error.status if error else 200
    )


routes = [web.get("/desk/breaches", list_breaches)]
