"""The admin page of failed webhook deliveries, and replaying one."""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import DB
from bot.jobs.worker import notify_workers
from bot.rules.numbers import whole_number
from bot.web.admin_auth import (
    admin_only,
    admin_page,
    csrf_input,
    notice_from_query,
    redirect,
)
from bot.web.html import Html, cells, fragment, path, table, time_element
from bot.web.sessions import AdminSession
from storage.models import Delivery
from storage.reads.admin_queries import AdminQueries
from storage.repos import queue


def delivery_row(delivery: Delivery, admin_session: AdminSession) -> Html:
    replay = fragment(
        '<form method="post" action="{action}">{csrf}'
        '<button type="submit">Replay<span class="visually-hidden"> delivery '
        "{id}</span></button></form>",
        action=path("admin", "deliveries", str(delivery.id), "replay"),
        csrf=csrf_input(admin_session),
        id=delivery.id,
    )
    error = delivery.last_error or "—"
    return cells(
        fragment(
            '{event}<br><code class="small">{delivery_id}</code>',
            event=delivery.event,
            delivery_id=delivery.delivery_id,
        ),
        delivery.action or "—",
        time_element(delivery.received_at),
        delivery.attempts,
        fragment('<pre class="error-text">{e}</pre>', e=error[:2000]),
        replay,
    )


@admin_only
async def list_failed_deliveries(
    request: web.Request, admin_session: AdminSession
) -> web.StreamResponse:
    async with request.app[DB].session() as session:
        deliveries = await AdminQueries(session).failed_deliveries()
    content = fragment(
        "<h1>Failed webhook deliveries</h1>{notice}"
        "<p>GitHub deliveries the worker gave up on. Replay one after fixing its cause: it is "
        "processed again from the start.</p>{table}",
        notice=notice_from_query(request),
        table=table(
            ["Event", "Action", "Received", "Attempts", "Last error", "Replay"],
            [delivery_row(d, admin_session) for d in deliveries],
            caption="Failed deliveries, newest first",
            empty="No failed deliveries.",
        ),
    )
    return admin_page(request, "failed deliveries", content, admin_session=admin_session)


@admin_only
async def replay_delivery(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await replay_and_return(request, Delivery, "deliveries", notice="")


async def replay_and_return(
    request: web.Request, model: type[queue.Row], page: str, *, notice: str
) -> web.StreamResponse:
    """Replay the failed row in the URL (the API's rule, ``queue.requeue``) and go back to
    ``page`` saying whether it was: ``{notice}replayed`` or ``{notice}not-replayed``."""
    row_id = whole_number(request.match_info["id"])
    replayed = False
    if row_id is not None:
        async with request.app[DB].begin() as session:
            replayed = await queue.requeue(session, model, row_id)
    if replayed:
        notify_workers(request.app)
    outcome = "replayed" if replayed else "not-replayed"
    return redirect(
        path(
            "admin",
            page,
            query={"notice": f"{notice}{outcome}", "id": request.match_info["id"]},
        )
    )
