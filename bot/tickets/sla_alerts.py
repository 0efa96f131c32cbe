"""Telling people of SLA warnings and breaches: the sweep that records each one once, and the
outbox job that POSTs it, signed, to the product's SLA webhook.

The sweep (every ``TINYDESK_SLA_SWEEP_SECONDS``) takes the tickets whose ``sla_alert_at``
has come (kept by ``bot.tickets.sla_clock`` as their facts change), asks the pure rules
(``bot.rules.sla_alerts``) which alerts are due, stores each in ``sla_events`` unless it is
there already (the unique key makes it once across processes and restarts), queues one
``sla_notify`` job per new event for a product with a webhook, and moves ``sla_alert_at``
to the next alert's instant. On PostgreSQL several processes sweep side by side, each
skipping the tickets another holds.

What is left out: deleted tickets and test tickets (no events, no webhook; their instant is
cleared), and on finished (resolved or closed) tickets every clock still running: only a
promise already broken when the clock stopped is told. Tickets without a product get their
events (staff see them) and no webhook.

The webhook (README, "SLA webhooks"): ``POST`` JSON with ``X-TinyDesk-Event``
(``sla.warning`` or ``sla.breach``), ``X-TinyDesk-Timestamp`` (Unix seconds) and
``X-TinyDesk-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` under the
product's secret. A 2xx is done; a 5xx, 408, 429 or a network failure is retried with the
outbox's backoff; any other answer gives up (the job is parked as failed, replayable).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import __version__
from bot.appkeys import CLOCK, DB, SETTINGS
from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.jobs.outcomes import GiveUp, RetryLater
from bot.jobs.worker import notify_workers
from bot.rules import ids, sla
from bot.rules.business_time import NoWorkingTime
from bot.rules.desk_status import FINISHED
from bot.rules.sla_alerts import EVENT_NAMES, AlertKind, alerts_due, next_alert_at
from bot.tickets import sla_clock, sla_webhook
from storage.database import Database
from storage.models import Job, Product, SlaEvent, Ticket
from storage.repos.jobs import JobRepo
from storage.repos.products import ProductRepo
from storage.repos.sla import SlaRepo
from storage.repos.sla_events import SlaEventRepo
from storage.repos.tickets import TicketRepo

log = logging.getLogger(__name__)

# Tickets per transaction: each holds its tickets' rows (PostgreSQL) until it commits.
SWEEP_BATCH = 100
# A ticket whose sweep failed is looked at again after this long.
BROKEN_TICKET_WAIT = dt.timedelta(minutes=10)
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
# Answers worth trying again (besides 5xx): the receiver timed out, or asks us to slow down.
RETRIED_STATUSES = frozenset({408, 429})
MAX_RETRY_AFTER = 3600.0
USER_AGENT = f"TinyDesk/{__version__} (SLA webhook)"


def dedupe_key(event_id: int) -> str:
    return f"sla_event:{event_id}"


# -- the sweep ------------------------------------------------------------------------------------


async def sweep(db: Database, now: dt.datetime, *, batch: int = SWEEP_BATCH) -> int:
    """Record and queue every alert due at ``now``; how many events were new."""
    recorded = 0
    while True:
        async with db.begin() as session:
            tickets = await SlaEventRepo(session).tickets_due(now, limit=batch)
            for ticket in tickets:
                recorded += await _sweep_isolated(session, ticket, now)
        # Each ticket's instant moved past ``now`` (or was cleared): a short batch was the last.
        if len(tickets) < batch:
            return recorded


async def _sweep_isolated(session: AsyncSession, ticket: Ticket, now: dt.datetime) -> int:
    """One ticket in a savepoint: a ticket that cannot be swept (a bug) is logged and looked
    at again later, and does not stop the others behind it."""
    ticket_id = ticket.id
    try:
        async with session.begin_nested():
            return await _sweep_ticket(session, ticket, now)
    except Exception:
        log.exception("could not sweep the SLA alerts of ticket %s", ids.public_id(ticket_id))
        await SlaEventRepo(session).put_off(ticket_id, now + BROKEN_TICKET_WAIT)
        return 0


async def _sweep_ticket(session: AsyncSession, ticket: Ticket, now: dt.datetime) -> int:
    if ticket.deleted_at is not None or ticket.is_test:
        ticket.sla_alert_at = None
        return 0
    repo = SlaRepo(session)
    policy = await repo.policy(ticket.sla_policy_id)
    rules = sla_clock.rules_policy(policy)
    facts = sla_clock.facts_of(ticket, await repo.pauses(ticket.id))
    finished = ticket.status in FINISHED
    try:
        due = alerts_due(rules, facts, now, finished=finished)
        ticket.sla_alert_at = next_alert_at(rules, facts, now, finished=finished)
        standing = dict(zip(sla.Clock, sla.evaluate(rules, facts, now), strict=True))
    except NoWorkingTime:
        ticket.sla_alert_at = None
        return 0
    product = await _product(session, ticket.product_id)
    events = SlaEventRepo(session)
    jobs = JobRepo(session)
    recorded = 0
    for alert in due:
        event_id = await events.record(
            ticket_id=ticket.id,
            clock=alert.clock.value,
            kind=alert.kind.value,
            due_at=alert.due_at,
            at=now,
            policy=policy.name,
        )
        if event_id is None:
            continue  # told already
        recorded += 1
        log.info(
            "SLA %s of the %s clock of ticket %s (due %s)",
            alert.kind.value,
            alert.clock.value,
            ids.public_id(ticket.id),
            alert.due_at.isoformat(),
            extra={"sla_event_id": event_id, "ticket_id": ticket.id},
        )
        if product is not None and product.sla_webhook_url:
            left = standing[alert.clock].left_minutes
            await jobs.enqueue(
                JobKind.SLA_NOTIFY,
                {"event_id": event_id, "left_minutes": round(left, 1)},
                dedupe_key=dedupe_key(event_id),
            )
    return recorded


async def _product(session: AsyncSession, product_id: int | None) -> Product | None:
    if product_id is None:
        return None
    cache: dict[int, Product | None] = session.info.setdefault("tinydesk.sla_products", {})
    if product_id not in cache:
        cache[product_id] = await ProductRepo(session).by_id(product_id)
    return cache[product_id]


async def sweep_periodically(app: web.Application) -> None:
    """The app's task (``bot.app.workers_ctx``): sweep, wake the outbox, wait, again."""
    db, every = app[DB], app[SETTINGS].sla_sweep_seconds
    while True:
        try:
            if await sweep(db, app[CLOCK]()):
                notify_workers(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("could not sweep the SLA alerts; will try again", exc_info=True)
        await asyncio.sleep(every)


# -- the webhook ----------------------------------------------------------------------------------


def payload(
    event: SlaEvent, ticket: Ticket, settings: Settings, left_minutes: float
) -> dict[str, Any]:
    """What the webhook says: never the submitter's email or name, never a secret."""
    public_id = ids.public_id(ticket.id)
    return {
        "id": f"slaevt_{event.id}",
        "type": EVENT_NAMES[AlertKind(event.kind)],
        "kind": event.kind,
        "clock": event.clock,
        "ticketId": ticket.desk_id,
        "publicId": public_id,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "policy": event.policy,
        "dueAt": _iso(event.due_at),
        "at": _iso(event.at),
        "minutesLeft": max(0.0, left_minutes),
        "minutesOverdue": max(0.0, -left_minutes),
        "url": f"{settings.base_url()}/admin/tickets/{public_id}",
    }


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signed_headers(
    secret: str, event_name: str, body: bytes, now: float, *, user_agent: str = USER_AGENT
) -> dict[str, str]:
    timestamp = str(int(now))
    return {
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        "X-TinyDesk-Event": event_name,
        "X-TinyDesk-Timestamp": timestamp,
        "X-TinyDesk-Signature": signature(secret, timestamp, body),
    }


def notify_handler(db: Database, settings: Settings) -> Callable[[Job], Awaitable[None]]:
    """The outbox's handler for ``sla_notify`` jobs."""

    async def sla_notify(job: Job) -> None:
        async with db.session() as session:
            event = await SlaEventRepo(session).by_id(int(job.args["event_id"]))
            ticket = await TicketRepo(session).by_number(event.ticket_id) if event else None
            product = await _product(session, ticket.product_id) if ticket else None
        if event is None or ticket is None or ticket.deleted_at is not None:
            return  # the ticket is gone: nobody to tell about
        if product is None or not product.sla_webhook_url or not product.sla_webhook_secret:
            return  # the webhook was removed meanwhile
        try:
            secret = sla_webhook.reveal(settings, product.sla_webhook_secret)
        except sla_webhook.SecretUnreadable as exc:
            raise GiveUp(str(exc)) from None
        left = float(job.args.get("left_minutes", 0.0))
        body = json.dumps(payload(event, ticket, settings, left), separators=(",", ":")).encode()
        headers = signed_headers(secret, EVENT_NAMES[AlertKind(event.kind)], body, time.time())
        await post(f"the SLA webhook of {product.slug}", product.sla_webhook_url, body, headers)

    return sla_notify


async def post(where: str, url: str, body: bytes, headers: dict[str, str]) -> None:
    """One delivery attempt to ``where`` (named in the job's error); raises RetryLater or
    GiveUp unless the receiver took it."""
    try:
        async with aiohttp.ClientSession(timeout=WEBHOOK_TIMEOUT) as http:
            async with http.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                status, retry_after = resp.status, resp.headers.get("Retry-After")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RetryLater(f"{where} could not be reached: {type(exc).__name__}: {exc}") from None
    if 200 <= status < 300:
        return
    if status >= 500 or status in RETRIED_STATUSES:
        raise RetryLater(f"{where} answered {status}", after=_seconds(retry_after))
    raise GiveUp(f"{where} answered {status}; not retried (fix the receiver, then replay)")


def _seconds(retry_after: str | None) -> float | None:
    if retry_after is None or not retry_after.strip().isdigit():
        return None
    return min(float(retry_after.strip()), MAX_RETRY_AFTER)
