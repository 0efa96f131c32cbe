"""``tinydesk serve`` and ``tinydesk db upgrade | current``, and ``run_with_db``, which every
command that needs the database runs its work in."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import create_app, warn_if_github_missing
from bot.config import ConfigError, Settings
from bot.errors import ApiError
from bot.github.stored_app import settings_with_stored_app
from bot.http.protocol import TinyDeskRunner
from bot.logs import configure_logging
from bot.web.admin.setup import APP_REGISTERED
from storage import migrate
from storage.database import Database

log = logging.getLogger("tinydesk")


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the web server (and its workers)")
    serve.add_argument("--host", help="interface to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port to listen on (default $PORT or 8000)")
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="create or upgrade the schema to the newest revision")
    upgrade.set_defaults(func=cmd_db_upgrade)
    current = db.add_parser("current", help="print the schema revision of the database")
    current.set_defaults(func=cmd_db_current)


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
        return asyncio.run(runner())
    except ApiError as exc:
        print(f"tinydesk: {exc.error}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        for field, message in exc.extra.get("fields", {}).items():
            print(f"  {field}: {message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"tinydesk: cannot reach the database: {exc}", file=sys.stderr)
        return 1


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_level)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    from_env = settings

    async def upgraded(db: Database) -> int:
        nonlocal settings
        log.info("database schema is at revision %s", migrate.head_revision())
        settings = await settings_with_stored_app(from_env, db)
        return 0

    try:
        if run_with_db(settings, upgraded):
            return 1
    except ConfigError as exc:
        print(f"tinydesk: {'; '.join(exc.problems)}", file=sys.stderr)
        return 2

    async def announce(_app: web.Application) -> None:
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        log.info(
            "TinyDesk listening on http://%s:%s (database %s)",
            shown,
            port,
            _redact(settings.database_url),
        )

    def build(current: Settings) -> web.Application:
        warn_if_github_missing(current)
        app = create_app(current)
        app.on_startup.append(announce)
        return app

    async def rebuild() -> web.Application:
        """After a registration at /admin/setup: the application again, with the App."""
        db = Database(from_env.database_url, pool_size=1)
        try:
            merged = await settings_with_stored_app(from_env, db)
        finally:
            await db.dispose()
        return build(merged)

    asyncio.run(serve_until_signalled(build(settings), host, port, rebuild=rebuild))
    return 0


# How long requests in flight at a stop signal have to be answered.
SHUTDOWN_GRACE_SECONDS = 30.0


async def serve_until_signalled(
    app: web.Application,
    host: str,
    port: int,
    *,
    rebuild: Callable[[], Awaitable[web.Application]] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then stop in order: stop listening, answer the
    requests in flight (so every webhook acknowledged is stored: the group commit is
    flushed before its 202), then the cleanup contexts (workers finish or hand back what
    they hold, the inbox writer, then the database and its threads). A signal while
    stopping is logged and changes nothing: aiohttp's ``run_app`` would abandon the
    cleanup half-way (exit 1), with SQLite threads possibly still running.

    When a GitHub App is registered at /admin/setup (``APP_REGISTERED``), the same stop runs
    and ``rebuild``'s application, which has the App, is served on the same address."""
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
            await web.TCPSite(runner, host, port).start()
            port = runner.addresses[0][1]  # --port 0: keep the port chosen
            if not await stopped_or_registered(stop, app[APP_REGISTERED]) or rebuild is None:
                break
            log.info("GitHub App registered: restarting the application with it")
            await runner.cleanup()
            app = await rebuild()
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
    async def work() -> int:
        db = Database(settings.database_url, pool_size=1)
        try:
            current = await migrate.current_revision(db.engine)
        finally:
            await db.dispose()
        head = migrate.head_revision()
        print(f"{current or 'empty'} (newest: {head})")
        return 0

    return asyncio.run(work())
