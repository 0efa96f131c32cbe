"""The public API of seed 000: submit a ticket, then track it by its publicId without logging in."""

from __future__ import annotations

from aiohttp import web

from bot.rules import ids
from bot.errors import ApiError
from bot.http.bodies import json_response, read_json_object
from bot.tickets.intake import open_ticket, validate_submission
from bot.appkeys import DB, SETTINGS
from bot.http.ratelimit import limit_public_creates, limit_public_reads
from bot.views.timefmt import iso_ms
from bot.views.public import public_ticket
from bot.jobs.worker import notify_workers
from storage.reads import tracking
from storage.repos.products import ProductRepo

routes = web.RouteTableDef()

TOKEN_HEADER = "X-Tracking-Token"
TICKET_NOT_FOUND = "Ticket not found"


def request_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def tracking_url(request: web.Request, public_id: str, token: str | None = None) -> str:
    base = request.app[SETTINGS].base_url(request_origin(request))
    url = f"{base}/track/{public_id}"
    return f"{url}?token={token}" if token else url


@routes.post("/api/tickets")
async def submit_ticket(request: web.Request) -> web.Response:
    limit_public_creates(request)
    submission = validate_submission(await read_json_object(request))
    async with request.app[DB].begin() as session:
        product = await ProductRepo(session).by_slug(submission.product_slug)
        if product is None:
            raise ApiError(
                404,
                "Product not found",
                f"No product is registered with productSlug {submission.product_slug!r}; "
                "ask your TinyDesk admin for the right slug.",
            )
        opened = await open_ticket(
            session,
            product=product,
            subject=submission.subject,
            body=submission.body,
            email=submission.submitter_email,
            submitter_name=submission.submitter_name,
            screenshots=submission.screenshots,
        )
    notify_workers(request.app)
    ticket = opened.ticket
    public_id = ids.public_id(ticket.id)
    return web.json_response(
        {
            "publicId": public_id,
            "status": ticket.stage,
            "createdAt": iso_ms(ticket.created_at),
            "trackingToken": opened.tracking_token,
            "trackingUrl": tracking_url(request, public_id, opened.tracking_token),
        },
        status=201,
        headers={"Location": f"/api/tickets/{public_id}"},
    )


@routes.get("/api/tickets/{public_id}")
async def track_ticket(request: web.Request) -> web.Response:
    limit_public_reads(request)
    view = await load_public_view(request, request.match_info["public_id"])
    return json_response(view, headers={"Cache-Control": "no-store"})


async def load_public_view(request: web.Request, public_id: str) -> dict:
    """The tracking view of one ticket; the subject and comments only with its token."""
    number = ids.parse_public_id(public_id)
    if number is None:
        raise ApiError(404, TICKET_NOT_FOUND, "A publicId looks like TK-00042.")
    token = request.query.get("token") or request.headers.get(TOKEN_HEADER)
    reader = request.app[DB].reader
    # One statement for the ticket and its history: the poll every tracking page makes.
    ticket = await tracking.ticket_with_history(reader, number)
    if ticket is None:
        raise ApiError(404, TICKET_NOT_FOUND, "Check the publicId you were given.")
    comments = None
    if ids.secrets_match(token, ticket.tracking_token_hash):
        comments = await tracking.public_comments(reader, ticket.id)
    return public_ticket(ticket, ticket.transitions, comments=comments)
