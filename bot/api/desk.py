"""The staff help-desk API of seed 001 under /api/v1/desk, behind desk API keys.

It is a sub-application mounted at /api/v1 (``bot.app``): ``require_desk_key`` authenticates
every request under the prefix (``Authorization: Bearer td_…``), unknown paths included, and
counts it against the key's per-minute limit; ticket creation has a second limit.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.http.auth import authenticate_desk_key
from bot.http.bodies import json_response, read_json_object
from bot.http.cursor import decode_cursor, encode_cursor
from bot.http.ratelimit import enforce
from bot.jobs.worker import notify_workers
from bot.rules import desk_input
from bot.tickets import desk as desk_tickets
from bot.tickets import sla_policies
from bot.tickets.apikeys import KeyScope
from bot.views import desk as desk_views
from bot.views.sla_policies import policy_view
from storage.reads import desk_reads
from storage.repos.desk import DeskRepo

PREFIX = "/api/v1"
DESK_KEY = web.RequestKey("desk_key", KeyScope)


@web.middleware
async def require_desk_key(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Key auth and the per-key request limit for everything under /api/v1/."""
    request[DESK_KEY] = await authenticate_desk_key(request)
    return await handler(request)


async def create_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    await enforce(
        request,
        f"desk-create:{scope.key_id}",
        request.config_dict[SETTINGS].rate_limits.desk_creates_per_minute,
    )
    new = desk_input.validate_new_ticket(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.create_ticket(session, scope, new, request.config_dict[CLOCK]())
    if ticket.product_id is not None and not ticket.is_test:
        notify_workers(request.config_dict)
    return web.json_response(
        desk_views.ticket_view(ticket),
        status=201,
        headers={"Location": f"/api/v1/desk/tickets/{ticket.desk_id}"},
    )


async def list_tickets(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    filters = desk_tickets.validate_filters(request.query)
    limit = desk_input.parse_limit(request.query.get("limit"))
    cursor = request.query.get("cursor")
    before_id = decode_cursor(cursor) if cursor else None
    # One statement for the page and its tags; one extra row tells whether another page exists.
    reader = request.config_dict[DB].reader
    rows = await desk_reads.page(
        reader, desk_tickets.visibility(scope), filters, before_id=before_id, limit=limit + 1
    )
    page, has_more = rows[:limit], len(rows) > limit
    body: dict[str, Any] = {
        "tickets": [desk_views.ticket_summary(t) for t in page],
        "hasMore": has_more,
    }
    if has_more:
        body["nextCursor"] = encode_cursor(page[-1].id)
    return json_response(body)


async def show_ticket(request: web.Request) -> web.Response:
    reader = request.config_dict[DB].reader
    ticket = await desk_tickets.read_ticket(reader, request[DESK_KEY], request.match_info["id"])
    comments = await desk_reads.comments(reader, ticket.id)
    return json_response(desk_views.ticket_view(ticket, comments))


async def update_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    changes = desk_input.validate_changes(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.find_ticket(session, scope, request.match_info["id"])
        await desk_tickets.update_ticket(
            session, scope, ticket, changes, request.config_dict[CLOCK]()
        )
        comments = list(await DeskRepo(session).comments(ticket.id))
    return web.json_response(desk_views.ticket_view(ticket, comments))


async def close_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.find_ticket(session, scope, request.match_info["id"])
        await desk_tickets.close_and_delete(session, scope, ticket, request.config_dict[CLOCK]())
    return web.json_response({"success": True, "message": "Ticket closed"})


async def comment_on_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    body, internal = desk_input.validate_comment(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.find_ticket(session, scope, request.match_info["id"])
        comment = await desk_tickets.add_comment(
            session, scope, ticket, body, internal, request.config_dict[CLOCK]()
        )
    return web.json_response(desk_views.comment_view(comment), status=201)


async def show_stats(request: web.Request) -> web.Response:
    visible = desk_tickets.visibility(request[DESK_KEY])
    stats = await desk_reads.stats(request.config_dict[DB].reader, visible)
    return json_response(desk_views.stats_view(stats.by_status, stats.avg_resolution_seconds))


async def list_sla_policies(request: web.Request) -> web.Response:
    """The SLA policies, read-only, for staff choosing a ticket's ``slaPolicy``."""
    async with request.config_dict[DB].session() as session:
        policies = await sla_policies.list_policies(session)
    return web.json_response({"policies": [policy_view(p) for p in policies]})


# Paths are below PREFIX: the app mounts this list as its own sub-application.
routes = [
    web.post("/desk/tickets", create_ticket),
    web.get("/desk/tickets", list_tickets),
    web.get("/desk/tickets/{id}", show_ticket),
    web.patch("/desk/tickets/{id}", update_ticket),
    web.delete("/desk/tickets/{id}", close_ticket),
    web.post("/desk/tickets/{id}/comments", comment_on_ticket),
    web.get("/desk/stats", show_stats),
    web.get("/desk/sla/policies", list_sla_policies),
]
