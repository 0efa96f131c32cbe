"""Signed callbacks: each stage change and public comment of a ticket POSTed, as JSON, to the
``callbackUrl`` its submitter (an agent, an integration) gave at intake.

- ``register`` (intake): the ticket's callback and a new secret, stored sealed under the
  server secret and shown once, in the create's answer (``callbackSecret``).
- ``queue_event`` (a ticket-event listener, in the change's own transaction): the event's body
  is fixed and logged in ``callback_deliveries`` and an outbox job queued, so nothing is sent
  for a change rolled back and nothing is lost when the process stops.
- ``delivery_handler`` (the notification worker): POSTs it with ``X-TinyDesk-Event``,
  ``X-TinyDesk-Delivery`` (the event id: the same on every retry), ``X-TinyDesk-Timestamp``
  and ``X-TinyDesk-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``, the
  SLA webhooks' signature (README, "Callbacks", has a verifier). 2xx: delivered. 5xx, 408,
  425, 429 or no answer: tried again over about a day (bot.rules.callbacks), then parked.
  410 Gone: the callback is turned off. Anything else, a redirect included (never followed):
  parked. Every attempt is written to the delivery log (``/admin/callbacks``).
- No SSRF: the address connected to, after DNS, must be public unless allowlisted
  (``TINYDESK_CALLBACK_ALLOW``; bot.rules.callbacks.address_problem).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from bot import __version__
from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.jobs.outcomes import RetryLater
from bot.rules import callbacks as rules
from bot.rules import ids
from bot.rules.callbacks import Network
from bot.tickets import sla_webhook
from bot.tickets.sla_alerts import signature
from bot.tickets.ticket_event import COMMENT_ADDED, STAGE_CHANGED, TicketEvent
from storage.database import Database
from storage.models import CallbackDelivery, Job, Ticket, TicketCallback
from storage.repos.jobs import JobRepo
from storage.repos.tickets import active_callback_as_read
from storage.types import utcnow

log = logging.getLogger(__name__)

SECRET_PREFIX = "cbsec_"
HKDF_INFO = b"tinydesk ticket callback secret v1"
USER_AGENT = f"TinyDesk/{__version__} (ticket callback)"
TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
MAX_ERROR = 2000
EVENTS = (STAGE_CHANGED, COMMENT_ADDED)


async def register(session: AsyncSession, settings: Settings, ticket: Ticket, url: str) -> str:
    """Store ``ticket``'s callback; returns its new secret (to be shown once)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    session.add(
        TicketCallback(
            ticket_id=ticket.id,
            url=url,
            secret=sla_webhook.seal(settings, secret, HKDF_INFO),
            active=True,
            created_at=ticket.created_at,
        )
    )
    return secret


def event_body(
    event: TicketEvent, event_id: str, now: dt.datetime, *, sequence: int
) -> dict[str, Any]:
    """What a callback says: the ticket's public view of the step, never an internal note,
    the submitter's address or a secret. Deliveries may arrive out of order (a retried one
    after a later one); ``sequence`` grows with each event, so a receiver can tell which
    came last."""
    ticket = event.ticket
    status = event.transition.to_stage if event.transition is not None else ticket.stage
    body: dict[str, Any] = {
        "id": event_id,
        "type": event.kind,
        "sequence": sequence,
        "createdAt": _iso(now),
        "ticket": {
            "publicId": ids.public_id(ticket.id),
            "status": status,
            "subject": ticket.subject,
        },
    }
    if event.transition is not None:
        step = event.transition
        body["change"] = {
            "from": step.from_stage,
            "to": step.to_stage,
            "description": step.description,
            "reason": step.reason,
        }
    if event.comment is not None:
        body["comment"] = {
            "body": event.comment.body,
            "author": event.comment.public_author,
            "bySubmitter": event.by_submitter,
        }
    return body


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def queue_event(session: AsyncSession, event: TicketEvent) -> None:
    """The ticket-event listener: log the event's delivery and queue its job."""
    if event.kind not in EVENTS or event.ticket.is_test:
        return
    if active_callback_as_read(session, event.ticket.id) is False:
        return  # as the read of the ticket in this transaction said, without a read of its own
    callback = await session.get(TicketCallback, event.ticket.id)
    if callback is None or not callback.active:
        return
    now = utcnow()
    event_id = ids.new_desk_id("evt")
    delivery = CallbackDelivery(
        event_id=event_id,
        ticket_id=event.ticket.id,
        event_type=event.kind,
        url=callback.url,
        body="",
        state=rules.PENDING,
        attempts=0,
        created_at=now,
    )
    session.add(delivery)
    await session.flush()  # its id is the event's sequence number
    delivery.body = json.dumps(
        event_body(event, event_id, now, sequence=delivery.id), separators=(",", ":")
    )
    await JobRepo(session).enqueue(JobKind.TICKET_CALLBACK, {"delivery_id": delivery.id})


class VettingResolver(AbstractResolver):
    """DNS for callbacks: the addresses a name resolves to, less those the rules refuse; a name
    with none left fails to resolve (and says why in ``refused``)."""

    def __init__(self, allow: Sequence[Network], inner: AbstractResolver | None = None) -> None:
        self.allow = tuple(allow)
        self.inner = inner or aiohttp.ThreadedResolver()
        self.refused: str | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        kept = []
        for result in found:
            address = rules.literal_address(result["host"])
            problem = rules.address_problem(address, self.allow) if address else "no address"
            if problem is None:
                kept.append(result)
            else:
                self.refused = f"{host} resolves to {problem}"
        if not kept:
            raise OSError(self.refused or f"{host} has no address")
        return kept

    async def close(self) -> None:
        await self.inner.close()


ResolverFactory = Callable[[Sequence[Network]], VettingResolver]


def delivery_handler(
    db: Database, settings: Settings, resolver: ResolverFactory = VettingResolver
) -> Callable[[Job], Awaitable[None]]:
    """The notification worker's handler for ``ticket_callback`` jobs (``resolver``: tests
    give names their own addresses)."""

    async def deliver(job: Job) -> None:
        async with db.session() as session:
            delivery = await session.get(CallbackDelivery, int(job.args["delivery_id"]))
            callback = await session.get(TicketCallback, delivery.ticket_id) if delivery else None
        if delivery is None or delivery.state != rules.PENDING:
            return  # done already (a replayed job), or parked meanwhile
        if callback is None or not callback.active:
            await _record(
                db,
                delivery,
                rules.STOPPED,
                None,
                "the ticket's callback is turned off",
                attempted=False,
            )
            return
        try:
            secret = sla_webhook.reveal(settings, callback.secret, HKDF_INFO)
        except sla_webhook.SecretUnreadable as exc:
            await _record(db, delivery, rules.PARKED, None, str(exc), attempted=False)
            return
        status, error = await post(delivery, secret, resolver(settings.callback_allow))
        await _settle(db, delivery, status, error)

    return deliver


async def post(
    delivery: CallbackDelivery, secret: str, resolver: VettingResolver
) -> tuple[int | None, str | None]:
    """One attempt: the receiver's status (None when there was no answer) and what went wrong
    (None when nothing did), a refused address reported as ``refused: ...``."""
    host = URL(delivery.url).host or ""
    literal = rules.literal_address(host)
    if literal is not None and (problem := rules.address_problem(literal, resolver.allow)):
        return None, f"refused: {problem}"
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-TinyDesk-Event": delivery.event_type,
        "X-TinyDesk-Delivery": delivery.event_id,
        "X-TinyDesk-Timestamp": timestamp,
        "X-TinyDesk-Signature-256": signature(secret, timestamp, body),
    }
    connector = aiohttp.TCPConnector(resolver=resolver, force_close=True)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
            async with http.post(
                delivery.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status = resp.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        if resolver.refused is not None:
            return None, f"refused: {resolver.refused}"
        return None, f"could not be reached: {type(exc).__name__}: {exc}"[:MAX_ERROR]
    if 300 <= status < 400:
        return status, f"answered {status}: redirects are not followed (give the final URL)"
    return status, None if 200 <= status < 300 else f"answered {status}"


async def _settle(
    db: Database, delivery: CallbackDelivery, status: int | None, error: str | None
) -> None:
    attempts = delivery.attempts + 1
    if error is not None and error.startswith("refused: "):
        outcome = rules.PARKED
    elif status is None:
        outcome = "retry"
    else:
        outcome = rules.outcome_of(status)
    if outcome == "retry":
        delay = rules.retry_delay(attempts)
        if delay is not None:
            await _record(db, delivery, rules.PENDING, status, error)
            raise RetryLater(f"callback {delivery.event_id}: {error}", after=delay)
        outcome = rules.PARKED
        error = f"{error}; parked after {attempts} attempts"
    if outcome == rules.STOPPED:
        error = "answered 410 Gone: the ticket's callback is turned off"
    await _record(db, delivery, outcome, status, error)
    if outcome != rules.DELIVERED:
        log.warning(
            "callback %s of ticket %s %s: %s",
            delivery.event_id,
            ids.public_id(delivery.ticket_id),
            outcome,
            error,
        )


async def _record(
    db: Database,
    delivery: CallbackDelivery,
    state: str,
    status: int | None,
    error: str | None,
    *,
    attempted: bool = True,
) -> None:
    now = utcnow()
    async with db.begin() as session:
        await session.execute(
            update(CallbackDelivery)
            .where(CallbackDelivery.id == delivery.id)
            .values(
                state=state,
                attempts=CallbackDelivery.attempts + (1 if attempted else 0),
                last_status=status,
                last_error=error[:MAX_ERROR] if error else None,
                last_attempt_at=now if attempted else delivery.last_attempt_at,
                delivered_at=now if state == rules.DELIVERED else None,
            )
        )
        if state == rules.STOPPED and status == 410:
            await session.execute(
                update(TicketCallback)
                .where(TicketCallback.ticket_id == delivery.ticket_id)
                .values(active=False)
            )


async def redeliver(session: AsyncSession, delivery_id: int) -> bool:
    """Send a parked or stopped delivery again (the admin page): its attempts start over."""
    delivery = await session.get(CallbackDelivery, delivery_id)
    if delivery is None or delivery.state in (rules.PENDING, rules.DELIVERED):
        return False
    delivery.state, delivery.attempts = rules.PENDING, 0
    await session.execute(
        update(TicketCallback)
        .where(TicketCallback.ticket_id == delivery.ticket_id)
        .values(active=True)
    )
    await JobRepo(session).enqueue(JobKind.TICKET_CALLBACK, {"delivery_id": delivery.id})
    return True
