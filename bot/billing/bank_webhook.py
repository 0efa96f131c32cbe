"""A client's webhook for hour-bank warnings (``bank.warning``, at 80 % and 95 % of a
period's hours), sent through the outbox like the SLA webhook (``bot.tickets.sla_alerts``):
the same URL rule, the same signature (``X-TinyDesk-Signature`` over ``<timestamp>.<body>``
under the client's secret, ``whsec_…``, shown once and stored encrypted under the server
secret), the same retries.

``POST``/``PATCH /api/v1/desk/clients`` take ``webhookUrl`` (null removes it and its secret)
and ``rotateWebhookSecret: true``; the answer that made a secret shows it as
``webhookSecret``, once.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import __version__
from bot.config import Settings
from bot.errors import ApiError
from bot.jobs.kinds import JobKind
from bot.jobs.outcomes import GiveUp
from bot.tickets import sla_alerts, sla_webhook
from storage.database import Database
from storage.models import Client, ContractEvent, Job
from storage.repos.billing import BillingRepo
from storage.repos.jobs import JobRepo

URL_FIELD = "webhookUrl"
ROTATE_FIELD = "rotateWebhookSecret"
SECRET_FIELD = "webhookSecret"
EVENT_NAME = "bank.warning"
USER_AGENT = f"TinyDesk/{__version__} (billing webhook)"


def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    """What a client body asks of the webhook: {"url": …} and/or {"rotate": True}."""
    changes: dict[str, Any] = {}
    fields: dict[str, str] = {}
    if URL_FIELD in data:
        url = data[URL_FIELD]
        if url is not None and sla_webhook.url_problem(url):
            fields[URL_FIELD] = sla_webhook.URL_MESSAGE.replace("slaWebhookUrl", URL_FIELD)
        changes["url"] = url
    if ROTATE_FIELD in data:
        if data[ROTATE_FIELD] is not True:
            fields[ROTATE_FIELD] = f"{ROTATE_FIELD} must be true (or left out)"
        changes["rotate"] = True
    if fields:
        message = next(iter(fields.values()))
        raise ApiError(400, message, "Fix the webhook fields listed.", fields=fields)
    return changes


def apply(settings: Settings, client: Client, changes: Mapping[str, Any]) -> str | None:
    """Carries out ``validate``'s changes; the new secret (to show once) if one was made."""
    if "url" in changes and changes["url"] is None:
        if changes.get("rotate"):
            raise _rotate_without_url()
        client.webhook_url = client.webhook_secret = None
        return None
    if "url" in changes:
        client.webhook_url = changes["url"]
    if changes.get("rotate") and client.webhook_url is None:
        raise _rotate_without_url()
    if client.webhook_url is not None and (changes.get("rotate") or client.webhook_secret is None):
        secret = sla_webhook.new_secret()
        client.webhook_secret = sla_webhook.seal(settings, secret)
        return secret
    return None


def _rotate_without_url() -> ApiError:
    return ApiError(
        409,
        "No webhook to rotate",
        f"Set {URL_FIELD} first: its secret is what {ROTATE_FIELD} replaces.",
    )


async def enqueue(session: AsyncSession, client: Client, event_id: int) -> None:
    if client.webhook_url:
        await JobRepo(session).enqueue(
            JobKind.BANK_NOTIFY, {"event_id": event_id}, dedupe_key=f"bank_notify:{event_id}"
        )


def payload(
    event: ContractEvent, contract_name: str, contract_id: str, client: Client
) -> dict[str, Any]:
    detail = dict(event.detail or {})
    return {
        "id": f"bankevt_{event.id}",
        "type": EVENT_NAME,
        "kind": event.kind,
        "percent": detail.get("percent"),
        "client": {"id": client.desk_id, "name": client.name},
        "contract": {"id": contract_id, "name": contract_name},
        "periodStart": event.period_start.isoformat(),
        "periodEnd": detail.get("periodEnd"),
        "usedMinutes": detail.get("usedMinutes"),
        "availableMinutes": detail.get("availableMinutes"),
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def notify_handler(db: Database, settings: Settings) -> Callable[[Job], Awaitable[None]]:
    """The outbox's handler for ``bank_notify`` jobs."""

    async def bank_notify(job: Job) -> None:
        async with db.session() as session:
            repo = BillingRepo(session)
            event = await repo.event(int(job.args["event_id"]))
            contract = await repo.contract(event.contract_id) if event else None
            client = await repo.client(contract.client_id) if contract else None
            if event is None or contract is None or client is None:
                return  # deleted meanwhile: nobody to tell about
            body_doc = payload(event, contract.name, contract.desk_id, client)
            url, stored = client.webhook_url, client.webhook_secret
        if not url or not stored:
            return  # the webhook was removed meanwhile
        try:
            secret = sla_webhook.reveal(settings, stored)
        except sla_webhook.SecretUnreadable as exc:
            raise GiveUp(str(exc)) from None
        body = json.dumps(body_doc, separators=(",", ":")).encode()
        headers = sla_alerts.signed_headers(
            secret, EVENT_NAME, body, time.time(), user_agent=USER_AGENT
        )
        await sla_alerts.post(f"the billing webhook of {client.name}", url, body, headers)

    return bank_notify
