"""Alerts to tickets over HTTP: ``POST /api/alerts/alertmanager`` (Alertmanager's webhook,
version 4) and ``POST /api/alerts/grafana`` (Grafana's webhook contact point), with a desk key
as the bearer token (Alertmanager's ``http_config.authorization``). The product is the key's
own, or ``?product=SLUG`` for a key that sees several. What each notification does:
bot.rules.alerts; carried out by bot.tickets.alerts."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.errors import ApiError
from bot.http.auth import authenticate_desk_key
from bot.http.bodies import json_response, read_json_object, text_problem
from bot.jobs.worker import notify_workers
from bot.rules import alerts as rules
from bot.tickets import alerts
from bot.tickets.desk import product_for_new_ticket

# Alertmanager sends the whole group each time: a big group is a big body.
MAX_ALERT_BODY = 2 * 1024 * 1024
# A first notification of a group that lost the race to create it runs again, once it can
# see the winner's group.
ATTEMPTS = 3


async def alertmanager_webhook(request: web.Request) -> web.Response:
    return await _receive(request, rules.ALERTMANAGER)


async def grafana_webhook(request: web.Request) -> web.Response:
    return await _receive(request, rules.GRAFANA)


async def _receive(request: web.Request, source: str) -> web.Response:
    scope = await authenticate_desk_key(request)
    notification = rules.read_notification(
        source, await read_json_object(request, limit=MAX_ALERT_BODY)
    )
    settings = request.config_dict[SETTINGS]
    alert_settings = alerts.AlertSettings(
        reopen_window=dt.timedelta(minutes=settings.alert_reopen_minutes),
        priority_label=settings.alert_priority_label,
    )
    slug = request.query.get("product")
    if slug is not None and (problem := text_problem("product", slug)) is not None:
        raise ApiError(400, "Invalid product", f"{problem}.", fields={"product": problem})
    now = request.config_dict[CLOCK]()
    for attempt in range(ATTEMPTS):
        try:
            async with request.config_dict[DB].begin() as session:
                product = await product_for_new_ticket(session, scope, slug)
                if product is None:
                    raise ApiError(
                        400,
                        "Which product?",
                        "This key sees several products: add ?product=SLUG to the webhook URL.",
                    )
                outcome = await alerts.receive(
                    session, scope, product, notification, alert_settings, now
                )
            break
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise ApiError(
                    409,
                    "Alert group busy",
                    "Another notification of this group was being stored; send it again.",
                ) from None
    notify_workers(request.config_dict)
    return json_response(outcome.view())


routes = [
    web.post("/api/alerts/alertmanager", alertmanager_webhook),
    web.post("/api/alerts/grafana", grafana_webhook),
]
