"""The admin API under /api/admin, behind ``Authorization: Bearer $TINYDESK_ADMIN_TOKEN``:
products and their settings, SLA policies (``bot.api.admin_sla``), desk API keys (the key
is shown once), ticket templates, webhook deliveries and GitHub jobs, and linking a ticket
to an existing issue.

It is a sub-application (``bot.app``): ``require_admin_token`` checks the token on every
request under the prefix, unknown paths included, before anything else answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.api import admin_sla
from bot.appkeys import DB, SETTINGS
from bot.errors import ApiError
from bot.github.client import GITHUB
from bot.github.issues import existing_issue
from bot.http.auth import require_admin
from bot.http.bodies import read_json_object
from bot.jobs.worker import notify_workers
from bot.rules import desk_input, ids
from bot.rules.numbers import MAX_ISSUE_NUMBER, MAX_ROW_ID, bounded_int, whole_number
from bot.rules.templates import validate_template, validate_template_changes
from bot.tickets import audit, sla_webhook, templates
from bot.tickets.apikeys import (
    create_key,
    revoke_key,
    update_key,
    validate_key_request,
    validate_key_update,
)
from bot.tickets.link import link_ticket_to_issue, linkable_ticket
from bot.tickets.products import (
    register_product,
    update_product,
    validate_product,
    validate_product_update,
)
from bot.tickets.sla_policies import policy_names
from bot.views.admin import delivery_view, job_view, key_view, key_views, product_view
from bot.views.templates import template_view
from storage.models import Delivery, Job, QueueState
from storage.repos import queue
from storage.repos.apikeys import ApiKeyRepo
from storage.repos.products import ProductRepo
from storage.repos.templates import TemplateRepo

PREFIX = "/api/admin"


@web.middleware
async def require_admin_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    await require_admin(request)
    return await handler(request)


# -- products ---------------------------------------------------------------------------------


async def list_products(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        products = await ProductRepo(session).all()
        names = await policy_names(session)
    return web.json_response({"products": [product_view(p, names) for p in products]})


async def add_product(request: web.Request) -> web.Response:
    fields = validate_product(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        product = await register_product(session, fields)
        names = await policy_names(session)
    return web.json_response(product_view(product, names), status=201)


async def change_product(request: web.Request) -> web.Response:
    changes = validate_product_update(await read_json_object(request))
    webhook = sla_webhook.take(changes)
    async with request.config_dict[DB].begin() as session:
        product = await update_product(session, request.match_info["slug"], changes)
        secret = sla_webhook.apply(request.config_dict[SETTINGS], product, webhook)
        names = await policy_names(session)
    view = product_view(product, names)
    if secret is not None:
        view[sla_webhook.SECRET_FIELD] = secret  # shown this once
    return web.json_response(view)


async def remove_product(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    async with request.config_dict[DB].begin() as session:
        removed = await ProductRepo(session).remove(slug)
    if not removed:
        raise ApiError(404, "Product not found", f"No product has the slug {slug!r}.")
    return web.json_response({"success": True, "message": "Product removed"})


# -- desk API keys ----------------------------------------------------------------------------


async def list_keys(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        views = await key_views(session, await ApiKeyRepo(session).all())
    return web.json_response({"keys": views})


async def add_key(request: web.Request) -> web.Response:
    key_request = validate_key_request(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        created = await create_key(session, key_request)
    view = key_view(created.api_key, {p.id: p.slug for p in created.products})
    # The only time the key is ever shown.
    view["key"] = created.secret
    return web.json_response(view, status=201, headers={"Cache-Control": "no-store"})


async def change_key(request: web.Request) -> web.Response:
    changes = validate_key_update(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        api_key = await update_key(session, request.match_info["id"], changes)
        views = await key_views(session, [api_key])
    return web.json_response(views[0])


async def remove_key(request: web.Request) -> web.Response:
    async with request.config_dict[DB].begin() as session:
        await revoke_key(session, request.match_info["id"])
    return web.json_response({"success": True, "message": "Key revoked"})


# -- ticket templates (seed 003) ---------------------------------------------------------------


async def list_templates(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        views = [template_view(t) for t in await TemplateRepo(session).all()]
    return web.json_response({"templates": views})


async def add_template(request: web.Request) -> web.Response:
    fields = validate_template(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        view = template_view(await templates.create_template(session, templates.ADMIN, fields))
    return web.json_response(view, status=201)


async def show_template(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        template = await templates.find_template(session, templates.ADMIN, request.match_info["id"])
        return web.json_response(template_view(template))


async def change_template(request: web.Request) -> web.Response:
    changes = validate_template_changes(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        template = await templates.update_template(
            session, templates.ADMIN, request.match_info["id"], changes
        )
        view = template_view(template)
    return web.json_response(view)


async def remove_template(request: web.Request) -> web.Response:
    async with request.config_dict[DB].begin() as session:
        await templates.remove_template(session, templates.ADMIN, request.match_info["id"])
    return web.json_response({"success": True, "message": "Template deleted"})


# -- webhook deliveries and GitHub jobs -------------------------------------------------------

QUEUE_STATES = tuple(QueueState)
DEFAULT_PAGE = 50
MAX_PAGE = 200
QueueRow = TypeVar("QueueRow", Delivery, Job)


def _queue_filters(request: web.Request) -> tuple[str | None, int, int | None]:
    # ?state= (empty) is refused like any other value outside the enum the document declares.
    state = request.query.get("state")
    if state is not None and state not in QUEUE_STATES:
        raise ApiError(400, "Invalid state", f"state must be one of {', '.join(QUEUE_STATES)}.")
    limit = desk_input.parse_limit(
        request.query.get("limit"), default=DEFAULT_PAGE, maximum=MAX_PAGE
    )
    before = None
    if "before" in request.query:
        before = whole_number(request.query["before"])
        if before is None:
            raise ApiError(
                400,
                "Invalid paging",
                f"before must be an id from the list (a whole number from 1 to {MAX_ROW_ID}).",
            )
    return state, limit, before


async def _page(
    request: web.Request,
    model: type[QueueRow],
    key: str,
    view: Callable[[QueueRow], dict[str, Any]],
) -> web.Response:
    state, limit, before = _queue_filters(request)
    async with request.config_dict[DB].session() as session:
        rows = await queue.newest(session, model, state=state, limit=limit + 1, before_id=before)
    page = rows[:limit]
    return web.json_response(
        {key: [view(r) for r in page], "nextBefore": page[-1].id if len(rows) > limit else None}
    )


async def list_deliveries(request: web.Request) -> web.Response:
    """Webhook deliveries, newest first; ``?state=failed`` shows what needs a look."""
    return await _page(request, Delivery, "deliveries", delivery_view)


async def replay_delivery(request: web.Request) -> web.Response:
    return await _replay(request, Delivery, "Delivery")


async def list_jobs(request: web.Request) -> web.Response:
    """GitHub work (issues, status comments), newest first; ``?state=failed`` as above."""
    return await _page(request, Job, "jobs", job_view)


async def replay_job(request: web.Request) -> web.Response:
    return await _replay(request, Job, "Job")


async def _replay(request: web.Request, model: type[QueueRow], noun: str) -> web.Response:
    row_id = whole_number(request.match_info["id"])
    if row_id is None:
        raise ApiError(404, f"{noun} not found", "Use the numeric id from the list.")
    async with request.config_dict[DB].begin() as session:
        row = await session.get(model, row_id)
        if row is None:
            raise ApiError(404, f"{noun} not found", "Use the numeric id from the list.")
        if not await queue.requeue(session, model, row_id):
            raise ApiError(
                409,
                f"{noun} is not failed",
                f"Only failed items are replayed; this one is {row.state}.",
            )
    notify_workers(request.config_dict)
    return web.json_response({"id": row_id, "state": "pending"}, status=202)


# -- linking a ticket to an existing issue (duplicates) ---------------------------------------


def _issue_number(data: dict[str, Any]) -> int:
    issue = bounded_int(data.get("issue"), maximum=MAX_ISSUE_NUMBER)
    if issue is None:
        raise ApiError(
            400,
            "Validation failed",
            'Send the issue number: {"issue": 12}.',
            fields={"issue": f"issue must be an issue number from 1 to {MAX_ISSUE_NUMBER}"},
        )
    return issue


async def link_ticket(request: web.Request) -> web.Response:
    """Attach a ticket to an existing issue of its product's repository, e.g. a duplicate of
    a problem already being fixed; it then moves with that issue's other tickets. GitHub is
    asked first whether the issue exists (404 ``Issue not found`` when it does not)."""
    issue = _issue_number(await read_json_object(request))
    public_id = request.match_info["public_id"]
    async with request.config_dict[DB].session() as session:
        _, product = await linkable_ticket(session, public_id)
    # Outside any transaction: GitHub's answer may take a while. Nothing is stored unless
    # the issue exists (and is not a pull request).
    found = await existing_issue(request.config_dict[GITHUB], product, issue)
    async with request.config_dict[DB].begin() as session:
        ticket = await link_ticket_to_issue(session, public_id, issue, found, actor=audit.ADMIN)
        stage = ticket.stage
    notify_workers(request.config_dict)
    return web.json_response(
        {"publicId": ids.public_id(ticket.id), "issue": issue, "status": stage}
    )


# Paths are below PREFIX: the app mounts this list as its own sub-application.
routes = [
    web.get("/products", list_products),
    web.post("/products", add_product),
    web.patch("/products/{slug}", change_product),
    web.delete("/products/{slug}", remove_product),
    web.get("/keys", list_keys),
    web.post("/keys", add_key),
    web.patch("/keys/{id}", change_key),
    web.delete("/keys/{id}", remove_key),
    web.get("/templates", list_templates),
    web.post("/templates", add_template),
    web.get("/templates/{id}", show_template),
    web.patch("/templates/{id}", change_template),
    web.delete("/templates/{id}", remove_template),
    web.get("/deliveries", list_deliveries),
    web.post("/deliveries/{id}/replay", replay_delivery),
    web.get("/jobs", list_jobs),
    web.post("/jobs/{id}/replay", replay_job),
    web.post("/tickets/{public_id}/link", link_ticket),
    *admin_sla.routes,
]
