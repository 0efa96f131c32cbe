"""Seed 002's ``/api/v1/helpdesk/tickets`` (list, get, create, update, close; soft delete and
restore) and ``/api/v1/helpdesk/teams``, with a desk key: the same tickets as the desk and
public APIs, as ITSM documents (bot.views.helpdesk), within the key's tenant and
application (bot.tickets.helpdesk)."""

from __future__ import annotations

from aiohttp import web

from bot.api.desk import DESK_KEY
from bot.appkeys import CLOCK, DB, SETTINGS
from bot.http.bodies import json_response, read_json_object
from bot.http.cursor import decode_cursor, encode_cursor
from bot.http.ratelimit import enforce
from bot.jobs.worker import notify_workers
from bot.rules import desk_input
from bot.tickets import helpdesk
from bot.views.helpdesk import team_view, ticket_doc

BASE = "/helpdesk/tickets"


async def list_tickets(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    filters = helpdesk.read_filters(request.query)
    limit = desk_input.parse_limit(
        request.query.get("limit"), default=helpdesk.DEFAULT_PAGE, maximum=helpdesk.MAX_PAGE
    )
    cursor = request.query.get("cursor")
    before = decode_cursor(cursor) if cursor else None
    rows = await helpdesk.page(request.config_dict[DB].reader, scope, filters, before, limit)
    items, more = rows[:limit], len(rows) > limit
    return json_response(
        {
            "items": [ticket_doc(t) for t in items],
            "has_more": more,
            "next_cursor": encode_cursor(items[-1].id) if more else None,
        }
    )


async def get_ticket(request: web.Request) -> web.Response:
    """A deleted ticket is a 404 (it is gone); the list shows it with ?include_deleted=true,
    and ``restore`` brings it back."""
    async with request.config_dict[DB].session() as session:
        ticket = await helpdesk.find(session, request[DESK_KEY], request.match_info["id"])
    return json_response(ticket_doc(ticket))


async def create_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    settings = request.config_dict[SETTINGS]
    await enforce(
        request, f"desk-create:{scope.key_id}", settings.rate_limits.desk_creates_per_minute
    )
    data = await read_json_object(request)
    now = request.config_dict[CLOCK]()
    async with request.config_dict[DB].begin() as session:
        ticket = await helpdesk.create(session, scope, data, settings, now)
        doc = ticket_doc(ticket)
    notify_workers(request.config_dict)
    return json_response(doc, status=201, headers={"Location": f"/api/v1{BASE}/{ticket.desk_id}"})


async def _change(request: web.Request, action) -> web.Response:
    scope = request[DESK_KEY]
    now = request.config_dict[CLOCK]()
    async with request.config_dict[DB].begin() as session:
        ticket = await action(session, scope, request.match_info["id"], now)
        doc = ticket_doc(ticket)
    notify_workers(request.config_dict)
    return json_response(doc)


async def update_ticket(request: web.Request) -> web.Response:
    data = await read_json_object(request)

    async def update(session, scope, ref, now):
        return await helpdesk.update(session, scope, ref, data, now)

    return await _change(request, update)


async def close_ticket(request: web.Request) -> web.Response:
    return await _change(request, helpdesk.close)


async def delete_ticket(request: web.Request) -> web.Response:
    return await _change(request, helpdesk.soft_delete)


async def restore_ticket(request: web.Request) -> web.Response:
    return await _change(request, helpdesk.restore)


async def list_teams(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        teams = await helpdesk.teams(session, request[DESK_KEY])
    return json_response({"items": [team_view(t) for t in teams]})


async def add_team(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    async with request.config_dict[DB].begin() as session:
        team = await helpdesk.add_team(session, request[DESK_KEY], data)
        view = team_view(team)
    return json_response(view, status=201)


# Below the desk's PREFIX (/api/v1), in its guarded sub-application.
routes = [
    web.get(BASE, list_tickets),
    web.post(BASE, create_ticket),
    web.get(f"{BASE}/{{id}}", get_ticket),
    web.patch(f"{BASE}/{{id}}", update_ticket),
    web.delete(f"{BASE}/{{id}}", delete_ticket),
    web.post(f"{BASE}/{{id}}/close", close_ticket),
    web.post(f"{BASE}/{{id}}/restore", restore_ticket),
    web.get("/helpdesk/teams", list_teams),
    web.post("/helpdesk/teams", add_team),
]
