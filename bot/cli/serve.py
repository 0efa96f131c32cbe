"""``tinydesk serve`` and ``tinydesk db upgrade | current``, and ``run_with_db``, which every
command that needs the database runs its work in. A database that cannot be reached or
opened, or a port that cannot be bound, is a ``StartupError``: one line, exit code 2."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

from bot import __version__
from bot.app import create_app, warn_if_github_missing
from bot.cli import event_loop, listen
from bot.config import Settings, StartupError
from bot.errors import ApiError
from bot.github.stored_app import settings_with_stored_app
from bot.http.protocol import TinyDeskRunner
from bot.logs import configure_logging
from bot.web.admin.setup import APP_REGISTERED
from storage import migrate
from storage.database import Database
from storage.problems import database_problem, sqlite_path, why_not_openable

log = logging.getLogger("tinydesk")
T = TypeVar("T")


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the web server (and its workers)")
    serve.add_argument("--host", help="interface to listen on (default 0.0.0.0: all of them)")
    serve.add_argument(
        "--port", type=port_number, help="port to listen on (default $PORT or 8000; 0: any free)"
    )
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="create or upgrade the schema to the newest revision")
    upgrade.set_defaults(func=cmd_db_upgrade)
    current = db.add_parser("current", help="print the schema revision of the database")
    current.set_defaults(func=cmd_db_current)


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 0 and 65535")
    return port


def on_database(settings: Settings, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; a failure to reach or open the database becomes a ``StartupError``
    (storage.problems says which); any other failure propagates."""
    try:
        return asyncio.run(work)
    except Exception as exc:
        problem = database_problem(exc, settings.database_url)
        if problem is None:
            raise
        raise StartupError([problem]) from exc


def run_with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    """Open the database, bring its schema up to date, run ``work``, close it."""

    async def runner() -> int:
        db = Database(settings.database_url, pool_size=2)
        try:
            await migrate.upgrade(db.engine)
            return await work(db)
        finally:
            await db.dispose()

    try:
        return on_database(settings, runner())
    except ApiError as exc:
        print(f"tinydesk: {exc.error}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        for field, message in exc.extra.get("fields", {}).items():
            print(f"  {field}: {message}", file=sys.stderr)
        return 1


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Bind the port first (a busy port stops the start before the database is touched),
    then open (create, upgrade) the database, say what runs, and serve."""
    configure_logging(settings.log_level, settings.debug_loggers)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    sockets = listen.bind(host, port)
    from_env = settings
    try:
        created = upgrade_database(settings)
        # An App registered at /admin/setup (or by `tinydesk setup`), under the environment.
        settings = asyncio.run(_with_stored_app(from_env))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    say_what_runs(settings, created=created)
    bound_port = sockets[0].getsockname()[1]  # --port 0: the port chosen, kept on a rebuild

    async def rebuild() -> tuple[web.Application, list[socket.socket]]:
        """After a registration at /admin/setup: the application again, with the App."""
        merged = await _with_stored_app(from_env)
        warn_if_github_missing(merged)
        return create_app(merged), listen.bind(host, bound_port)

    log.info("event loop: %s", event_loop.describe(settings.event_loop))
    event_loop.run(
        serve_until_signalled(create_app(settings), sockets, rebuild=rebuild), settings.event_loop
    )
    return 0


async def _with_stored_app(from_env: Settings) -> Settings:
    db = Database(from_env.database_url, pool_size=1)
    try:
        return await settings_with_stored_app(from_env, db)
    finally:
        await db.dispose()


def upgrade_database(settings: Settings) -> bool:
    """Create or upgrade the schema; whether the SQLite file was created by this."""
    path = sqlite_path(settings.database_url)
    existed = path is None or path.exists()

    async def upgraded(_db: Database) -> int:
        return 0

    run_with_db(settings, upgraded)
    return not existed


def say_what_runs(settings: Settings, *, created: bool) -> None:
    """The start lines: where the data is, whether the workers run here, whether GitHub
    is configured (and where), whether the admin area is on."""
    log.info("TinyDesk %s starting (pid %d)", __version__, os.getpid())
    path = sqlite_path(settings.database_url)
    revision = migrate.head_revision()
    if path is not None:
        made = " (created now: there was no file)" if created else ""
        log.info("database: SQLite file %s%s, schema at revision %s", path, made, revision)
    else:
        log.info("database: %s, schema at revision %s", _redact(settings.database_url), revision)
    if settings.run_workers:
        log.info("workers run in this process: the webhook inbox and the GitHub outbox")
    else:
        log.warning(
            "workers are off in this process (TINYDESK_WORKERS=false): deliveries are stored "
            "and worked by `tinydesk worker`%s",
            " (on SQLite, exactly one)" if path is not None else "",
        )
    if settings.github_app_configured:
        log.info("GitHub App %s configured for %s", settings.github_app_id, settings.github_api_url)
    warn_if_github_missing(settings)
    if settings.admin_token:
        log.info("admin pages (/admin) and admin API (/api/admin) are on")
    else:
        log.info("admin pages and admin API are off: TINYDESK_ADMIN_TOKEN is not set")


# How long requests in flight at a stop signal have to be answered.
SHUTDOWN_GRACE_SECONDS = 30.0


async def serve_until_signalled(
    app: web.Application,
    sockets: list[socket.socket],
    *,
    rebuild: Callable[[], Awaitable[tuple[web.Application, list[socket.socket]]]] | None = None,
) -> None:
    """Serve on ``sockets`` (``listen.bind``) until SIGINT or SIGTERM, then stop in order:
    stop listening, answer the requests in flight (so every webhook acknowledged is stored:
    the group commit is flushed before its 202), then the cleanup contexts (workers finish
    or hand back what they hold, the inbox writer, then the database and its threads). A
    signal while stopping is logged and changes nothing: aiohttp's ``run_app`` would
    abandon the cleanup half-way (exit 1), with SQLite threads possibly still running.

    When a GitHub App is registered at /admin/setup (``APP_REGISTERED``), the same stop
    runs and ``rebuild``'s application, which has the App, is served on the same port."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if stop.is_set():
            log.info("%s received while stopping; still stopping", signum.name)
            return
        log.info("%s received; stopping", signum.name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    # TinyDeskRunner: aiohttp's own 4xx (bad headers, request lines) answer as JSON.
    runner = TinyDeskRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
    )
    try:
        while True:
            await runner.setup()
            for sock in sockets:
                await web.SockSite(runner, sock).start()
            log.info("TinyDesk %s", listen.listening_line(sockets))
            registered = app.get(APP_REGISTERED) or asyncio.Event()
            if rebuild is None or not await stopped_or_registered(stop, registered):
                break
            log.info("GitHub App registered: restarting the application with it")
            await runner.cleanup()  # closes the listening sockets too
            app, sockets = await rebuild()
            runner = TinyDeskRunner(
                app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
            )
    finally:
        await runner.cleanup()
        log.info("TinyDesk stopped")


async def stopped_or_registered(stop: asyncio.Event, registered: asyncio.Event) -> bool:
    """Wait for a stop signal or a registration; True for a registration (and no stop)."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(registered.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
    return registered.is_set() and not stop.is_set()


def _redact(url: str) -> str:
    """A database URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else url
    return url


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        print(f"database is at revision {await migrate.current_revision(db.engine)}")
        return 0

    return run_with_db(settings, work)


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    """The schema revision, without creating anything: no SQLite file is made to say so."""
    head = migrate.head_revision()
    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        if path.parent.is_dir():
            print(
                f"empty (newest: {head}): no database at {path} yet "
                "(tinydesk db upgrade creates it)"
            )
        else:
            print(
                f"empty (newest: {head}): no database at {path}, and tinydesk db upgrade "
                f"cannot create it: {why_not_openable(path)}"
            )
        return 0

    async def work() -> str | None:
        db = Database(settings.database_url, pool_size=1)
        try:
            return await migrate.current_revision(db.engine)
        finally:
            await db.dispose()

    current = on_database(settings, work())
    print(f"{current or 'empty'} (newest: {head})")
    return 0
