"""The admin API behind ``Authorization: Bearer $TINYDESK_ADMIN_TOKEN``: products (and more)."""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.rules import ids, pipeline
from bot.tickets import transitions
from bot.errors import ApiError
from bot.http.bodies import read_json_object
from bot.appkeys import DB, SETTINGS
from bot.tickets.products import product_view, register_product, validate_product
from bot.views.timefmt import iso_ms
from bot.jobs.worker import notify_workers
from storage.repos import queue
from storage.models import Delivery, Job
from storage.repos.products import ProductRepo
from storage.repos.tickets import TicketRepo

routes = web.RouteTableDef()


def bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_admin(request: web.Request) -> None:
    expected = request.app[SETTINGS].admin_token
    if not expected:
        raise ApiError(
            403,
            "Admin API disabled",
            "Set TINYDESK_ADMIN_TOKEN on the server to turn the admin API on.",
        )
    token = bearer_token(request)
    if token is None or not secrets.compare_digest(token.encode(), expected.encode()):
        raise ApiError(
            401,
            "Unauthorized",
            "Send the admin token as `Authorization: Bearer <TINYDESK_ADMIN_TOKEN>`.",
            headers={"WWW-Authenticate": 'Bearer realm="tinydesk-admin"'},
        )


@web.middleware
async def admin_auth_middleware(request: web.Request, handler):
    if request.path.startswith("/api/admin/") or request.path == "/api/admin":
        require_admin(request)
    return await handler(request)


@routes.get("/api/admin/products")
async def list_products(request: web.Request) -> web.Response:
    async with request.app[DB].session() as session:
        products = await ProductRepo(session).all()
    return web.json_response({"products": [product_view(p) for p in products]})


@routes.post("/api/admin/products")
async def add_product(request: web.Request) -> web.Response:
    fields = validate_product(await read_json_object(request))
    async with request.app[DB].begin() as session:
        product = await register_product(session, fields)
    return web.json_response(product_view(product), status=201)


@routes.delete("/api/admin/products/{slug}")
async def remove_product(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    async with request.app[DB].begin() as session:
        removed = await ProductRepo(session).remove(slug)
    if not removed:
        raise ApiError(404, "Product not found", f"No product has the slug {slug!r}.")
    return web.json_response({"success": True, "message": "Product removed"})


# -- webhook deliveries and GitHub jobs ---------------------------------------------------

QUEUE_STATES = tuple(queue.QueueState)


def _queue_filters(request: web.Request) -> tuple[str | None, int, int | None]:
    state = request.query.get("state") or None
    if state is not None and state not in QUEUE_STATES:
        raise ApiError(400, "Invalid state", f"state must be one of {', '.join(QUEUE_STATES)}.")
    try:
        limit = int(request.query.get("limit", "50"))
        before = int(request.query["before"]) if "before" in request.query else None
    except ValueError:
        raise ApiError(400, "Invalid paging", "limit and before must be whole numbers.") from None
    if not 1 <= limit <= 200:
        raise ApiError(400, "Invalid paging", "limit must be between 1 and 200.")
    return state, limit, before


def delivery_view(row: Delivery) -> dict:
    return {
        "id": row.id,
        "deliveryId": row.delivery_id,
        "event": row.event,
        "action": row.action,
        "state": row.state,
        "attempts": row.attempts,
        "lastError": row.last_error,
        "receivedAt": iso_ms(row.received_at),
        "processedAt": iso_ms(row.processed_at),
        "nextAttemptAt": iso_ms(row.next_attempt_at) if row.state == "pending" else None,
    }


def job_view(row: Job) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "args": row.args,
        "state": row.state,
        "attempts": row.attempts,
        "lastError": row.last_error,
        "createdAt": iso_ms(row.created_at),
        "doneAt": iso_ms(row.done_at),
        "nextAttemptAt": iso_ms(row.next_attempt_at) if row.state == "pending" else None,
    }


async def _page(request: web.Request, model, key: str, view) -> web.Response:
    state, limit, before = _queue_filters(request)
    async with request.app[DB].session() as session:
        rows = await queue.newest(session, model, state=state, limit=limit + 1, before_id=before)
    page = rows[:limit]
    return web.json_response(
        {key: [view(r) for r in page], "nextBefore": page[-1].id if len(rows) > limit else None}
    )


@routes.get("/api/admin/deliveries")
async def list_deliveries(request: web.Request) -> web.Response:
    """Webhook deliveries, newest first; ``?state=failed`` shows what needs a look."""
    return await _page(request, Delivery, "deliveries", delivery_view)


@routes.post("/api/admin/deliveries/{id}/replay")
async def replay_delivery(request: web.Request) -> web.Response:
    return await _replay(request, Delivery, "Delivery")


@routes.get("/api/admin/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    """GitHub work (issues, status comments), newest first; ``?state=failed`` as above."""
    return await _page(request, Job, "jobs", job_view)


@routes.post("/api/admin/jobs/{id}/replay")
async def replay_job(request: web.Request) -> web.Response:
    return await _replay(request, Job, "Job")


async def _replay(request: web.Request, model, noun: str) -> web.Response:
    try:
        row_id = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, f"{noun} not found", "Use the numeric id from the list.") from None
    async with request.app[DB].begin() as session:
        row = await session.get(model, row_id)
        if row is None:
            raise ApiError(404, f"{noun} not found", "Use the numeric id from the list.")
        if not await queue.requeue(session, model, row_id):
            raise ApiError(
                409,
                f"{noun} is not failed",
                f"Only failed items are replayed; this one is {row.state}.",
            )
    notify_workers(request.app)
    return web.json_response({"id": row_id, "state": "pending"}, status=202)


# -- linking a ticket to an existing issue (duplicates) -----------------------------------


@routes.post("/api/admin/tickets/{public_id}/link")
async def link_ticket_to_issue(request: web.Request) -> web.Response:
    """Attach a ticket to an existing issue of its product's repository, e.g. a duplicate of
    a problem already being fixed; it then moves with that issue's other tickets."""
    data = await read_json_object(request)
    issue = data.get("issue")
    if not isinstance(issue, int) or isinstance(issue, bool) or not 0 < issue < 2**31:
        raise ApiError(
            400,
            "Validation failed",
            'Send the issue number: {"issue": 12}.',
            fields={"issue": "issue must be a positive issue number"},
        )
    number = ids.parse_public_id(request.match_info["public_id"])
    async with request.app[DB].begin() as session:
        ticket = await TicketRepo(session).by_number(number) if number else None
        if ticket is None:
            raise ApiError(404, "Ticket not found", "Check the publicId.")
        if ticket.product_id is None:
            raise ApiError(
                409, "Ticket has no product", "Only tickets filed against a product follow GitHub."
            )
        if ticket.issue_number is not None:
            raise ApiError(
                409,
                "Ticket already linked",
                f"{ids.public_id(ticket.id)} follows issue #{ticket.issue_number} already.",
            )
        product = await ProductRepo(session).by_id(ticket.product_id)
        ticket.issue_number = issue
        await transitions.apply(
            session,
            [ticket],
            product,
            pipeline.Event(pipeline.Fact.ISSUE_OPENED),
            transitions.Cause("staff.linked", actor="admin"),
        )
        # Bring it level with the issue's other tickets, if it has any.
        siblings = [
            t
            for t in await TicketRepo(session).linked_to_issue(product.id, issue)
            if t.id != ticket.id
        ]
        leader = max(siblings, key=lambda t: pipeline.RANK[pipeline.Stage(t.stage)], default=None)
        if leader is not None and leader.stage != ticket.stage:
            await transitions.apply(
                session,
                [ticket],
                product,
                pipeline.Event(pipeline.Fact.LABEL_APPLIED, target=pipeline.Stage(leader.stage)),
                transitions.Cause("staff.linked", actor="admin"),
            )
        await transitions.request_status_refresh(session, product.id, issue)
        stage = ticket.stage
    notify_workers(request.app)
    return web.json_response(
        {"publicId": ids.public_id(ticket.id), "issue": issue, "status": stage}
    )
