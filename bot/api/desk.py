"""The staff help-desk API of seed 001 under /api/v1/desk, behind desk API keys.

It is a sub-application mounted at /api/v1 (``bot.app``): ``require_desk_key`` authenticates
every request under the prefix (``Authorization: Bearer td_…``), unknown paths included, and
counts it against the key's per-minute limit; ticket creation has a second limit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.http import idempotency
from bot.http.auth import authenticate_desk_key
from bot.http.bodies import json_response, read_json_object
from bot.http.cursor import decode_cursor, encode_cursor
from bot.http.ratelimit import enforce
from bot.jobs.worker import notify_workers
from bot.rules import callbacks, desk_input
from bot.rules import merge as merge_rules
from bot.rules.templates import template_ref, validate_template, validate_template_changes
from bot.tickets import desk as desk_tickets
from bot.tickets import history, merge, sla_clock, sla_lists, sla_policies, templates
from bot.tickets.apikeys import KeyScope
from bot.tickets.templates import TemplateScope
from bot.views import desk as desk_views
from bot.views.sla_policies import policy_view
from bot.views.templates import template_view
from bot.views.ticket_history import ticket_ref
from storage.reads import attachment_reads, desk_reads, sla_events, sla_stats, time_reads
from storage.repos.desk import DeskRepo
from storage.repos.templates import TemplateRepo

PREFIX = "/api/v1"
# The stats' "atRisk": tickets with a running SLA clock due within this (docs/desk-api.md).
AT_RISK_WITHIN = dt.timedelta(minutes=60)
DESK_KEY = web.RequestKey("desk_key", KeyScope)


@web.middleware
async def require_desk_key(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Key auth and the per-key request limit for everything under /api/v1/."""
    request[DESK_KEY] = await authenticate_desk_key(request)
    return await handler(request)


async def create_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    settings = request.config_dict[SETTINGS]
    data = await read_json_object(request)
    key = idempotency.guard(request, f"desk:{scope.key_id}", data, settings)
    if template_ref(data) is not None:
        # What the request leaves out comes from the template it names (seed 003).
        async with request.config_dict[DB].session() as session:
            data = await templates.fill_from_template(session, scope, data)
    new = desk_input.validate_new_ticket(data, settings.callback_allow)
    now = request.config_dict[CLOCK]()

    async def create(session: AsyncSession) -> idempotency.Answer:
        ticket, callback_secret = await desk_tickets.create_ticket(
            session, scope, new, now, settings=settings
        )
        standing = await sla_clock.evaluate(session, ticket, now)
        body = desk_views.ticket_view(ticket, standing=standing)
        if callback_secret is not None:
            body[callbacks.SECRET_FIELD] = callback_secret  # shown this once
        return idempotency.Answer(201, body, f"/api/v1/desk/tickets/{ticket.desk_id}")

    async def limit() -> None:
        await enforce(
            request, f"desk-create:{scope.key_id}", settings.rate_limits.desk_creates_per_minute
        )

    answer, replayed = await idempotency.answer_once(
        request.config_dict[DB], key, create, first=limit, now=now
    )
    if not replayed:
        notify_workers(request.config_dict)
    return idempotency.response(answer, replayed)


async def list_tickets(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    reader = request.config_dict[DB].reader
    filters = await desk_tickets.list_filters(reader, scope, request.query)
    limit = desk_input.parse_limit(request.query.get("limit"))
    cursor = request.query.get("cursor")
    before_id = decode_cursor(cursor) if cursor else None
    # One statement for the page and its tags; one extra row tells whether another page exists.
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
    standing = await sla_lists.ticket_standing(reader, ticket.id, request.config_dict[CLOCK]())
    events = await sla_events.of_ticket(reader, ticket.id)
    time = await time_reads.ticket_time(reader, ticket.id)
    attachments = await attachment_reads.of_ticket(reader, ticket.id)
    return json_response(
        desk_views.ticket_view(ticket, comments, standing, events, time, attachments)
    )


async def update_ticket(request: web.Request) -> web.Response:
    scope = request[DESK_KEY]
    changes = desk_input.validate_changes(await read_json_object(request))
    now = request.config_dict[CLOCK]()
    async with request.config_dict[DB].begin() as session:
        ticket = await desk_tickets.find_ticket(session, scope, request.match_info["id"])
        await desk_tickets.update_ticket(session, scope, ticket, changes, now)
        comments = list(await DeskRepo(session).comments(ticket.id))
        standing = await sla_clock.evaluate(session, ticket, now)
    return web.json_response(desk_views.ticket_view(ticket, comments, standing))


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


async def ticket_history(request: web.Request) -> web.Response:
    """The staff history: stage changes with their causes, audit entries, SLA events."""
    reader = request.config_dict[DB].reader
    ticket = await desk_tickets.read_ticket(reader, request[DESK_KEY], request.match_info["id"])
    async with request.config_dict[DB].session() as session:
        items = await history.staff_history(session, reader, ticket.id)
    return json_response({"ticket": ticket_ref(ticket), "history": items})


async def merge_ticket(request: web.Request) -> web.Response:
    """Merge this ticket (the duplicate) into the one ``into`` names (bot.tickets.merge)."""
    scope = request[DESK_KEY]
    into = merge_rules.validate_merge(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        duplicate = await desk_tickets.find_ticket(session, scope, request.match_info["id"])
        target = await merge.merge_ticket(
            session, scope, duplicate, into, request.config_dict[CLOCK]()
        )
        body = {**ticket_ref(duplicate), "status": duplicate.status}
        body["mergedInto"] = ticket_ref(target)
    notify_workers(request.config_dict)
    return web.json_response(body)


async def show_stats(request: web.Request) -> web.Response:
    visible = desk_tickets.visibility(request[DESK_KEY])
    reader, now = request.config_dict[DB].reader, request.config_dict[CLOCK]()
    stats = await desk_reads.stats(reader, visible)
    figures = await sla_stats.sla_stats(reader, visible, now, now + AT_RISK_WITHIN)
    return json_response(
        desk_views.stats_view(stats.by_status, stats.avg_resolution_seconds, figures)
    )


async def sla_breaches(request: web.Request) -> web.Response:
    """The breach list, or with ``dueWithin`` the tickets about to breach (sla_lists)."""
    return await _breaches(request, request[DESK_KEY])


async def seed_sla_breaches(request: web.Request) -> web.Response:
    """Seed 003's path, ``GET /api/sla/breaches``: the same list, behind a desk key."""
    return await _breaches(request, await authenticate_desk_key(request))


async def _breaches(request: web.Request, scope: KeyScope) -> web.Response:
    query = sla_lists.parse_query(request.query)
    body = await sla_lists.page(
        request.config_dict[DB].reader,
        desk_tickets.visibility(scope),
        query,
        request.config_dict[CLOCK](),
    )
    return json_response(body)


# -- ticket templates (seed 003) ---------------------------------------------------------------


def _template_scope(request: web.Request) -> TemplateScope:
    return TemplateScope.of_key(request[DESK_KEY])


async def list_templates(request: web.Request) -> web.Response:
    """Newest first, paged like the ticket list (``limit``, ``cursor``)."""
    limit = desk_input.parse_limit(request.query.get("limit"))
    cursor = request.query.get("cursor")
    before_id = decode_cursor(cursor) if cursor else None
    async with request.config_dict[DB].session() as session:
        rows = await TemplateRepo(session).page(
            _template_scope(request).product_ids, before_id=before_id, limit=limit + 1
        )
        page, has_more = rows[:limit], len(rows) > limit
        body: dict[str, Any] = {"templates": [template_view(t) for t in page], "hasMore": has_more}
    if has_more:
        body["nextCursor"] = encode_cursor(page[-1].id)
    return json_response(body)


async def create_template(request: web.Request) -> web.Response:
    fields = validate_template(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        template = await templates.create_template(session, _template_scope(request), fields)
        view = template_view(template)
    return web.json_response(
        view, status=201, headers={"Location": f"/api/v1/desk/templates/{view['id']}"}
    )


async def show_template(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        template = await templates.find_template(
            session, _template_scope(request), request.match_info["id"]
        )
        return json_response(template_view(template))


async def update_template(request: web.Request) -> web.Response:
    changes = validate_template_changes(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        template = await templates.update_template(
            session, _template_scope(request), request.match_info["id"], changes
        )
        view = template_view(template)
    return web.json_response(view)


async def delete_template(request: web.Request) -> web.Response:
    async with request.config_dict[DB].begin() as session:
        await templates.remove_template(session, _template_scope(request), request.match_info["id"])
    return web.json_response({"success": True, "message": "Template deleted"})


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
    web.get("/desk/tickets/{id}/history", ticket_history),
    web.post("/desk/tickets/{id}/merge", merge_ticket),
    web.get("/desk/stats", show_stats),
    web.get("/desk/sla/breaches", sla_breaches),
    web.get("/desk/templates", list_templates),
    web.post("/desk/templates", create_template),
    web.get("/desk/templates/{id}", show_template),
    web.patch("/desk/templates/{id}", update_template),
    web.delete("/desk/templates/{id}", delete_template),
    web.get("/desk/sla/policies", list_sla_policies),
]
# Outside the prefix, authenticated by the handler itself.
root_routes = [web.get("/api/sla/breaches", seed_sla_breaches)]
