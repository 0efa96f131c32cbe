"""create_app(settings): routes, middlewares, and every resource in a cleanup context."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot import __version__
from bot.api import (
    admin,
    admin_staff,
    alerts,
    billing,
    desk,
    desk_attachments,
    helpdesk,
    openapi,
    public,
)
from bot.appkeys import CLOCK, DB, INBOX_WRITER, SETTINGS
from bot.billing import bank_webhook
from bot.config import Settings
from bot.github.client import GITHUB, GitHubApp, client_session
from bot.github.outbox import GitHubOutbox
from bot.http import idempotency
from bot.http.middleware import add_security_headers, error_middleware
from bot.http.ratelimit import RATE_LIMITER, RateLimiter, attach_rate_limit_headers
from bot.jobs.kinds import GITHUB_KINDS, NOTIFY_KINDS, JobKind
from bot.jobs.notifier import JobHandler, Notifier
from bot.jobs.worker import WORKERS, QueueWorker, Workers
from bot.mail.listener import mail_listener_ctx
from bot.mail.outgoing import deliver, digest, unsubscribe
from bot.mail.outgoing import queue as mail_queue
from bot.staff import mail as staff_mail
from bot.tickets import callbacks, sla_alerts
from bot.web import setup_pages
from bot.web.sessions import SESSIONS
from storage.database import Database
from storage.inbox_writer import InboxWriter
from storage.limits import make_state
from storage.models import Delivery, Job
from storage.repos import queue
from storage.repos.desk import compact_counts
from storage.types import utcnow
from webhooks import receiver, shipping
from webhooks.inbox import InboxProcessor

log = logging.getLogger(__name__)

# How often the desk stats' count deltas are folded together (storage.repos.desk.compact_counts).
COMPACT_COUNTS_SECONDS = 60.0
# How long the outbox waits for more work to gather after a batch that was not full (status
# comments lag by about this much; a burst of transitions on one issue becomes one edit).
OUTBOX_LINGER_SECONDS = 1.0

# GitHub sends webhook bodies of up to 25 MB; everything else is bounded by its handler.
CLIENT_MAX_SIZE = 25 * 1024 * 1024

NOT_CONFIGURED_WARNING = (
    "GitHub App not configured (missing %s): tickets will wait at RECEIVED until the App is "
    "configured; see README, 'Register the GitHub App'"
)


async def healthz(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    try:
        await request.app[DB].ping()
        database = "ok"
    except Exception:
        log.warning("health check: database unreachable", exc_info=True)
        database = "unreachable"
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "version": __version__,
        "database": database,
        "github": "configured" if settings.github_app_configured else "not configured",
    }
    return web.json_response(body, status=200 if database == "ok" else 503)


def create_app(settings: Settings, *, db: Database | None = None) -> web.Application:
    """The whole TinyDesk server. ``db`` is given by tests that own the database."""
    app = web.Application(
        middlewares=[error_middleware],
        client_max_size=CLIENT_MAX_SIZE,
    )
    app[SETTINGS] = settings
    app[CLOCK] = utcnow
    app[RATE_LIMITER] = RateLimiter()
    app.on_response_prepare.append(attach_rate_limit_headers)
    app.on_response_prepare.append(add_security_headers)

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        owned = db is None
        app[DB] = db if db is not None else Database(settings.database_url)
        checkpoints = asyncio.create_task(app[DB].run_checkpoints(), name="sqlite-checkpoints")
        # Steps of tickets are queued for mail by this process (bot.mail.outgoing.queue).
        if mail_queue.enable(app[DB].engine, settings) is not None:
            log.info("mail out: submitters are mailed at each step of their tickets")
        yield
        mail_queue.disable(app[DB].engine)
        checkpoints.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checkpoints
        if owned:
            await app[DB].dispose()

    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(shared_state_ctx)
    app.cleanup_ctx.append(inbox_writer_ctx)
    app.cleanup_ctx.append(github_ctx)
    app.cleanup_ctx.append(workers_ctx)
    app.cleanup_ctx.append(mail_listener_ctx)  # TINYDESK_SMTP_PORT: mail in (bot.mail.listener)
    # Every route, by audience. The desk and admin APIs are sub-applications, so their guard
    # (a desk key, the admin token) runs on every request under their prefix and nowhere else.
    app.router.add_get("/healthz", healthz)
    app.router.add_routes(openapi.routes)
    app.router.add_routes(receiver.routes)
    app.router.add_routes(public.routes)
    app.router.add_routes(alerts.routes)
    app.router.add_routes(desk.root_routes)
    app.router.add_routes(billing.root_routes)
    app.router.add_routes(unsubscribe.routes)
    app.add_subapp(
        desk.PREFIX,
        guarded(
            desk.routes + billing.routes + desk_attachments.routes + helpdesk.routes,
            desk.require_desk_key,
        ),
    )
    app.add_subapp(
        admin.PREFIX, guarded(admin.routes + admin_staff.routes, admin.require_admin_token)
    )
    setup_pages(app)
    if settings.mcp_endpoint:
        # Imported only when on: the MCP SDK brings pydantic, Starlette and more with it.
        from bot.mcp import endpoint

        endpoint.mount(app)  # TINYDESK_MCP: /mcp, streamable HTTP
    return app


def guarded(routes: Iterable[web.AbstractRouteDef], guard: Middleware) -> web.Application:
    """A sub-application of ``routes`` whose ``guard`` middleware sees each of its requests,
    unknown paths and methods included. Its handlers read the app's keys through
    ``request.config_dict``."""
    sub = web.Application(middlewares=[guard])
    sub.router.add_routes(routes)
    return sub


async def shared_state_ctx(app: web.Application) -> AsyncIterator[None]:
    """Rate-limit counters and admin sessions where every process sees them: Redis when
    REDIS_URL is set, else the database (memory on SQLite, one process); storage.limits."""
    state = make_state(app[DB].url, app[SETTINGS].redis_url)
    app[RATE_LIMITER].state = state
    app[SESSIONS].state = state
    log.info("rate limits and admin sessions are kept in %s", state.name)
    yield
    await state.close()


async def inbox_writer_ctx(app: web.Application) -> AsyncIterator[None]:
    """Verified deliveries are stored in groups (storage.inbox_writer.InboxWriter)."""
    writer = InboxWriter(app[DB])
    app[INBOX_WRITER] = writer
    yield
    await writer.close()


async def github_ctx(app: web.Application) -> AsyncIterator[None]:
    """The App's GitHub client, when GITHUB_APP_ID and the private key are set."""
    settings = app[SETTINGS]
    app_id, private_key = settings.github_app_id, settings.github_private_key
    if not settings.github_app_configured or app_id is None or private_key is None:
        app[GITHUB] = None
        yield
        return
    async for http in client_session():
        app[GITHUB] = GitHubApp(
            http,
            app_id=app_id,
            private_key=private_key,
            base_url=settings.github_api_url,
        )
        yield


def notify_handlers(app: web.Application) -> dict[str, JobHandler]:
    """The jobs that tell someone outside TinyDesk, each handled beside the code queueing it."""
    db, settings = app[DB], app[SETTINGS]
    return {
        JobKind.SLA_NOTIFY: sla_alerts.notify_handler(db, settings),
        JobKind.BANK_NOTIFY: bank_webhook.notify_handler(db, settings),
        JobKind.SEND_MAIL: deliver.send_mail_handler(db, settings),
        JobKind.MAIL_DIGEST: digest.digest_handler(db, settings),
        JobKind.TICKET_CALLBACK: callbacks.delivery_handler(db, settings),
        JobKind.STAFF_MAIL: staff_mail.staff_mail_handler(db, settings),
    }


def build_workers(app: web.Application) -> Workers:
    """The inbox and notification workers always; the GitHub outbox once GitHub is configured."""
    db, github = app[DB], app[GITHUB]
    processor = InboxProcessor(db, github, close_grace_seconds=app[SETTINGS].close_grace_seconds)
    inbox = QueueWorker(
        db,
        Delivery,
        processor,
        name="inbox",
        # One delivery at a time, in order of receipt, a batch to a transaction; on
        # PostgreSQL several processes work the inbox side by side (and the pipeline's
        # rules absorb their reordering).
        concurrency=1,
        shared_handler=processor.in_unit,
    )
    workers = Workers([inbox])
    notifier = Notifier(notify_handlers(app))
    notify_worker = QueueWorker(
        db, Job, notifier.handle, name="notify", concurrency=4, kinds=NOTIFY_KINDS
    )
    inbox.feeds.append(notify_worker)  # stage changes queue callbacks and mail
    workers.queues.append(notify_worker)
    if github is not None:
        outbox = GitHubOutbox(
            db,
            github,
            app[SETTINGS],
            more={JobKind.SHIP_CHECK: shipping.ship_check_handler(db, github)},
        )
        outbox_worker = QueueWorker(
            db,
            Job,
            outbox.handle,
            name="outbox",
            concurrency=4,
            # Transitions arriving close together make one status comment edit, not one each.
            linger_seconds=OUTBOX_LINGER_SECONDS,
            kinds=GITHUB_KINDS,
        )
        inbox.feeds.append(outbox_worker)  # deliveries queue status comments and PR notes
        workers.queues.append(outbox_worker)
    return workers


async def workers_ctx(app: web.Application) -> AsyncIterator[None]:
    workers = build_workers(app)
    app[WORKERS] = workers
    db = app[DB]
    if app[SETTINGS].run_workers:
        if db.single_process:
            # One process works an SQLite database: whatever was claimed before a crash is ours.
            async with db.begin() as session:
                await queue.release_claims(session, Delivery)
                await queue.release_claims(session, Job)
        for worker in workers.queues:
            worker.start()
        compactor = asyncio.create_task(compact_counts_periodically(db), name="compact-counts")
        sweeper = asyncio.create_task(sla_alerts.sweep_periodically(app), name="sla-alerts")
        digester = asyncio.create_task(digest.digest_periodically(app), name="mail-digest")
        purger = asyncio.create_task(idempotency.purge_periodically(db), name="idempotency")
    yield
    if app[SETTINGS].run_workers:
        for task in (compactor, sweeper, digester, purger):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    for worker in workers.queues:
        await worker.stop()


async def compact_counts_periodically(db: Database) -> None:
    """Keep the desk stats' table of count deltas short (a few rows per product and status)."""
    while True:
        await asyncio.sleep(COMPACT_COUNTS_SECONDS)
        try:
            async with db.begin() as session:
                await compact_counts(session)
        except Exception:
            log.warning("could not compact the ticket counts; will try again", exc_info=True)


def warn_if_github_missing(settings: Settings) -> None:
    missing = settings.missing_github_settings
    if missing:
        log.warning(NOT_CONFIGURED_WARNING, ", ".join(missing))
    elif not settings.public_url:
        log.warning(
            "TINYDESK_PUBLIC_URL is not set: tracking links written into GitHub issues will "
            "point at %s, which submitters cannot open",
            settings.base_url(),
        )
