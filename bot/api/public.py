"""The public API of seed 000: submit a ticket, then track it by its publicId without logging in."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import DB, SETTINGS
from bot.errors import ApiError
from bot.http import idempotency
from bot.http.bodies import json_response, read_json_object
from bot.http.ratelimit import client_address, limit_public_creates, limit_public_reads
from bot.http.urls import tracking_token, tracking_url
from bot.jobs.worker import notify_workers
from bot.rules import ids
from bot.tickets.intake import open_submission, validate_submission
from bot.views.public import load_public_view
from bot.views.timefmt import iso_ms
from storage.repos.products import ProductRepo


async def submit_ticket(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    settings = request.config_dict[SETTINGS]
    key = idempotency.guard(request, f"public:{client_address(request)}", data, settings)
    submission = validate_submission(data, settings.callback_allow)

    async def create(session: AsyncSession) -> idempotency.Answer:
        product = await ProductRepo(session).by_slug(submission.product_slug)
        if product is None:
            raise ApiError(
                404,
                "Product not found",
                f"No product is registered with productSlug {submission.product_slug!r}; "
                "ask your TinyDesk admin for the right slug.",
            )
        opened = await open_submission(session, product, submission, settings=settings)
        public_id = ids.public_id(opened.ticket.id)
        body = {
            "publicId": public_id,
            "status": opened.ticket.stage,
            "createdAt": iso_ms(opened.ticket.created_at),
            "trackingToken": opened.tracking_token,
            "trackingUrl": tracking_url(request, public_id, opened.tracking_token),
        }
        if opened.callback_secret is not None:
            body["callbackSecret"] = opened.callback_secret  # shown this once
        return idempotency.Answer(201, body, f"/api/tickets/{public_id}")

    answer, replayed = await idempotency.answer_once(
        request.config_dict[DB], key, create, first=lambda: limit_public_creates(request)
    )
    if not replayed:
        notify_workers(request.config_dict)
    return idempotency.response(answer, replayed)


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
