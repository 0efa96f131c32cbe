"""``tinydesk worker``: the background workers without the web server, for a deployment that
gives them a process (and a core) of their own: the webhook inbox, the GitHub outbox, the
notifications (mail, callbacks, SLA alerts) and the periodic sweeps. The web processes then
run with ``TINYDESK_WORKERS=false`` and only receive, store and answer (Procfile's ``worker:``
line; README, "Running the workers in their own process").

On PostgreSQL any number of workers (and web processes with workers on) share the queues:
claims are row locks. On SQLite run exactly one worker and no web process with workers on:
a worker that starts takes back whatever was claimed before it (one process works an SQLite
database). The web process's receiver wakes the workers of its own process only; a worker
elsewhere finds new deliveries within its idle poll (2 s) and works without pause while
there is work.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal

from aiohttp import web

from bot import __version__
from bot.app import create_app, warn_if_github_missing
from bot.cli import event_loop
from bot.cli.serve import _with_stored_app, upgrade_database
from bot.config import Settings
from bot.logs import configure_logging

log = logging.getLogger("tinydesk")


def register(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser("worker", help="run the background workers without the web server")
    worker.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_level, settings.debug_loggers)
    upgrade_database(settings)
    settings = asyncio.run(_with_stored_app(settings))
    # Workers whatever TINYDESK_WORKERS says (it is meant for the web processes), and no mail
    # listener: receiving mail is the web side's, on its port.
    settings = dataclasses.replace(
        settings,
        run_workers=True,
        mail=dataclasses.replace(settings.mail, listen_port=None),
    )
    log.info("TinyDesk %s worker starting (pid %d)", __version__, os.getpid())
    warn_if_github_missing(settings)
    log.info("event loop: %s", event_loop.describe(settings.event_loop))
    event_loop.run(work_until_signalled(create_app(settings)), settings.event_loop)
    return 0


async def work_until_signalled(app: web.Application) -> None:
    """Start the application without a listening socket (its cleanup contexts start the
    database, the GitHub client and the workers), run until SIGINT or SIGTERM, then stop as
    ``tinydesk serve`` does: the workers finish or hand back what they hold."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: signal.Signals) -> None:
        if not stop.is_set():
            log.info("%s received; stopping", signum.name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    log.info("TinyDesk worker running: the webhook inbox, the GitHub outbox, notifications")
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        log.info("TinyDesk worker stopped")
