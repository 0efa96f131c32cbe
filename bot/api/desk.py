"""The staff help-desk API of seed 001 under /api/v1/desk, behind desk API keys.

``desk_middleware`` authenticates every /api/v1/ request (``Authorization: Bearer td_…``)
and counts it against the key's per-minute limit; ticket creation has a second limit.
"""

from __future__ import annotations

from aiohttp import web

from bot.tickets import desk
from bot.api.admin import bearer_token
from bot.tickets.apikeys import KeyScope, authenticate
from bot.errors import ApiError
from bot.http.bodies import json_response, read_json_object
from bot.appkeys import DB, SETTINGS
from bot.http.ratelimit import client_address, enforce
from bot.jobs.worker import notify_workers
from storage.reads import desk_reads
from storage.repos.desk import DeskRepo
from storage.types import utcnow

routes = web.RouteTableDef()

DESK_PREFIX = "/api/v1/"
DESK_KEY = web.RequestKey("desk_key", KeyScope)
UNAUTHORIZED_HINT = (
    "Send a desk API key as `Authorization: Bearer td_live_…`; an admin creates one with "
    "`tinydesk keys create --name NAME`. Revoked keys stop working at once."
)


@web.middleware
async def desk_middleware(request: web.Request, handler):
    """Key auth and the per-key request limit for everything under /api/v1/."""
    if not request.path.startswith(DESK_PREFIX):
        return await handler(request)
    limits = request.app[SETTINGS].rate_limits
    scope = await authenticate(request.app[DB], bearer_token(request))
    if scope is None:
        # Failed attempts are limited per address, so they too carry the headers.
        bucket = f"desk-anonymous:{client_address(request)}"
        enforce(request, bucket, limits.desk_requests_per_minute)
        raise ApiError(
            401,
            "Unauthorized",
            UNAUTHORIZED_HINT,
            headers={"WWW-Authenticate": 'Bearer realm="tinydesk-desk"'},
        )
    enforce(request, f"desk:{scope.key_id}", limits.desk_requests_per_minute)
    request[DESK_KEY] = scope
    return await handler(request)


@routes.post("/api/v1/desk/tickets")
async def create_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    enforce(
        request,
        f"desk-create:{scope.key_id}",
        request.app[SETTINGS].rate_limits.desk_creates_per_minute,
    )
    new = desk.validate_new_ticket(await read_json_object(request))
    async with request.app[DB].begin() as session:
        ticket = await desk.create_ticket(session, scope, new)
    if ticket.product_id is not None and not ticket.is_test:
        notify_workers(request.app)
    return web.json_response(
        desk.ticket_view(ticket),
        status=201,
        headers={"Location": f"/api/v1/desk/tickets/{ticket.desk_id}"},
    )


@routes.get("/api/v1/desk/tickets")
async def list_tickets(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    filters = desk.validate_filters(request.query)
    limit = desk.parse_limit(request.query.get("limit"))
    cursor = request.query.get("cursor")
    before_id = desk.decode_cursor(cursor) if cursor else None
    # One statement for the page and its tags; one extra row tells whether another page exists.
    reader = request.app[DB].reader
    rows = await desk_reads.page(
        reader, desk.visibility(scope), filters, before_id=before_id, limit=limit + 1
    )
    page, has_more = rows[:limit], len(rows) > limit
    body: dict = {"tickets": [desk.ticket_summary(t) for t in page], "hasMore": has_more}
    if has_more:
        body["nextCursor"] = desk.encode_cursor(page[-1].id)
    return json_response(body)


@routes.get("/api/v1/desk/tickets/{id}")
async def show_ticket(request: web.Request) -> web.Response:
    reader = request.app[DB].reader
    ticket = await desk.read_ticket(reader, request[DESK_KEY], request.match_info["id"])
    comments = await desk_reads.comments(reader, ticket.id)
    return json_response(desk.ticket_view(ticket, comments))


@routes.patch("/api/v1/desk/tickets/{id}")
async def update_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    changes = desk.validate_changes(await read_json_object(request))
    async with request.app[DB].begin() as session:
        ticket = await desk.find_ticket(session, scope, request.match_info["id"])
        await desk.update_ticket(session, scope, ticket, changes, utcnow())
        comments = list(await DeskRepo(session).comments(ticket.id))
    return web.json_response(desk.ticket_view(ticket, comments))


@routes.delete("/api/v1/desk/tickets/{id}")
async def close_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    async with request.app[DB].begin() as session:
        ticket = await desk.find_ticket(session, scope, request.match_info["id"])
        await desk.close_and_delete(session, scope, ticket, utcnow())
    return web.json_response({"success": True, "message": "Ticket closed"})


@routes.post("/api/v1/desk/tickets/{id}/comments")
async def comment_on_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    body, internal = desk.validate_comment(await read_json_object(request))
    async with request.app[DB].begin() as session:
        ticket = await desk.find_ticket(session, scope, request.match_info["id"])
        comment = await desk.add_comment(session, scope, ticket, body, internal, utcnow())
    return web.json_response(desk.comment_view(comment), status=201)


@routes.get("/api/v1/desk/stats")
async def show_stats(request: web.Request) -> web.Response:
    stats = await desk_reads.stats(request.app[DB].reader, desk.visibility(request[DESK_KEY]))
    return json_response(desk.stats_view(stats.by_status, stats.avg_resolution_seconds))
