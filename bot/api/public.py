"""The public API of seed 000: submit a ticket, then track it by its publicId without logging in."""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import DB
from bot.errors import ApiError
from bot.http.bodies import json_response, read_json_object
from bot.http.ratelimit import limit_public_creates, limit_public_reads
from bot.http.urls import tracking_token, tracking_url
from bot.jobs.worker import notify_workers
from bot.rules import ids
from bot.tickets.intake import open_submission, validate_submission
from bot.views.public import load_public_view
from bot.views.timefmt import iso_ms
from storage.repos.products import ProductRepo


async def submit_ticket(request: web.Request) -> web.Response:
    await limit_public_creates(request)
    submission = validate_submission(await read_json_object(request))
    async with request.config_dict[DB].begin() as session:
        product = await ProductRepo(session).by_slug(submission.product_slug)
        if product is None:
            raise ApiError(
                404,
                "Product not found",
                f"No product is registered with productSlug {submission.product_slug!r}; "
                "ask your TinyDesk admin for the right slug.",
            )
        opened = await open_submission(session, product, submission)
    notify_workers(request.config_dict)
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


async def track_ticket(request: web.Request) -> web.Response:
    await limit_public_reads(request)
    view = await load_public_view(
        request.config_dict[DB].reader, request.match_info["public_id"], tracking_token(request)
    )
    return json_response(view, headers={"Cache-Control": "no-store"})


routes = [
    web.post("/api/tickets", submit_ticket),
    web.get("/api/tickets/{public_id}", track_ticket),
]
