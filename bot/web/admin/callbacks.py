"""The admin page of ticket callbacks: every event POSTed (or being POSTed) to a ticket's
``callbackUrl``, newest first, with its attempts and last answer; a parked or stopped one can
be sent again (bot.tickets.callbacks)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.appkeys import DB
from bot.jobs.worker import notify_workers
from bot.rules import callbacks as rules
from bot.rules import ids
from bot.rules.numbers import whole_number
from bot.tickets import callbacks
from bot.web.admin_auth import admin_only, admin_page, csrf_input, notice_from_query, redirect
from bot.web.html import Html, cells, fragment, path, table, time_element
from bot.web.sessions import AdminSession
from storage.models import CallbackDelivery

PAGE_SIZE = 100


def delivery_row(delivery: CallbackDelivery, admin_session: AdminSession) -> Html:
    public_id = ids.public_id(delivery.ticket_id)
    action: Html | str = "—"
    if delivery.state in (rules.PARKED, rules.STOPPED):
        action = fragment(
            '<form method="post" action="{action}">{csrf}'
            '<button type="submit">Send again<span class="visually-hidden"> callback '
            "{id}</span></button></form>",
            action=path("admin", "callbacks", str(delivery.id), "redeliver"),
            csrf=csrf_input(admin_session),
            id=delivery.id,
        )
    answer = str(delivery.last_status) if delivery.last_status is not None else "—"
    return cells(
        fragment(
            '<a href="{href}">{public_id}</a>',
            href=path("admin", "tickets", public_id),
            public_id=public_id,
        ),
        fragment(
            '{event}<br><code class="small">{event_id}</code>',
            event=delivery.event_type,
            event_id=delivery.event_id,
        ),
        fragment('<code class="small">{url}</code>', url=delivery.url),
        delivery.state,
        delivery.attempts,
        answer,
        fragment('<pre class="error-text">{e}</pre>', e=(delivery.last_error or "—")[:2000]),
        time_element(delivery.created_at),
        time_element(delivery.last_attempt_at, empty="—"),
        action,
    )


@admin_only
async def list_callbacks(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    query = select(CallbackDelivery).order_by(CallbackDelivery.id.desc()).limit(PAGE_SIZE)
    number = ids.parse_public_id(request.query.get("ticket", ""))
    if number is not None:
        query = query.where(CallbackDelivery.ticket_id == number)
    state = request.query.get("state")
    if state in (rules.PENDING, rules.DELIVERED, rules.PARKED, rules.STOPPED):
        query = query.where(CallbackDelivery.state == state)
    async with request.app[DB].session() as session:
        rows = list(await session.scalars(query))
    content = fragment(
        "<h1>Ticket callbacks</h1>{notice}"
        "<p>Each stage change and public comment of a ticket created with a "
        "<code>callbackUrl</code>, signed and POSTed there. Failures are retried for about a "
        "day, then parked; a 410 Gone turns the ticket's callback off. Filter with "
        "<code>?ticket=TK-00042</code> or <code>?state=parked</code>.</p>{table}",
        notice=notice_from_query(request),
        table=table(
            [
                "Ticket",
                "Event",
                "URL",
                "State",
                "Attempts",
                "Last answer",
                "Last error",
                "Happened",
                "Last attempt",
                "Send again",
            ],
            [delivery_row(d, admin_session) for d in rows],
            caption=f"Callbacks, newest first (at most {PAGE_SIZE})",
            empty="No callbacks.",
        ),
    )
    return admin_page(request, "callbacks", content, admin_session=admin_session)


@admin_only
async def redeliver(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    delivery_id = whole_number(request.match_info["id"])
    queued = False
    if delivery_id is not None:
        async with request.app[DB].begin() as session:
            queued = await callbacks.redeliver(session, delivery_id)
    if queued:
        notify_workers(request.app)
    notice = "callback-redelivered" if queued else "callback-not-redelivered"
    return redirect(
        path("admin", "callbacks", query={"notice": notice, "id": request.match_info["id"]})
    )
