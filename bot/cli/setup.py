"""``tinydesk setup``: register the GitHub App from a terminal, through GitHub's manifest flow.

A small temporary listener (127.0.0.1, a free port unless ``--port``) serves the same
"Register on GitHub" page as ``/admin/setup``; the command prints its URL, waits for GitHub's
redirect back, exchanges the code, stores the credentials (encrypted) in the database of
``DATABASE_URL``, prints the App and its installation URL and exits 0. The server uses the
App from its next start. Ctrl-C or ``--timeout`` stop it with nothing stored.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.config import Settings
from bot.github.manifest import CALLBACK_PATH, LOGIN, MAX_APP_NAME, server_url_problem
from bot.github.stored_app import RegisteredApp, registered_app, server_secret
from bot.http.middleware import add_security_headers, error_middleware
from bot.web import STATIC_DIR
from bot.web.admin.setup import Choice, default_app_name, finish_registration, registration_page
from bot.web.html import STATIC_PREFIX
from storage import migrate
from storage.database import Database

DEFAULT_TIMEOUT_SECONDS = 900.0


def register(commands: argparse._SubParsersAction) -> None:
    setup = commands.add_parser(
        "setup",
        help="register the GitHub App on GitHub (manifest flow) and store its credentials",
        description=(
            "Register TinyDesk's GitHub App through GitHub's manifest flow: open the printed "
            "URL in a browser on this machine (or forward the port), create the App on GitHub, "
            "and its credentials are stored encrypted in the database of DATABASE_URL, under "
            "TINYDESK_SECRET_KEY (or TINYDESK_ADMIN_TOKEN): give the server the same value."
        ),
    )
    setup.add_argument("--org", metavar="ORG", help="register it for this organization")
    setup.add_argument(
        "--github-url",
        metavar="URL",
        help="a GitHub Enterprise Server, e.g. https://ghe.example.com",
    )
    setup.add_argument(
        "--public-url",
        metavar="URL",
        help="where GitHub sends webhooks (default $TINYDESK_PUBLIC_URL): the server's address",
    )
    setup.add_argument("--name", help="the App's name (default from app.yml; unique on GitHub)")
    setup.add_argument("--host", default="127.0.0.1", help="listen here (default 127.0.0.1)")
    setup.add_argument("--port", type=int, default=0, help="listen on this port (default: free)")
    setup.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"give up after this long (default {DEFAULT_TIMEOUT_SECONDS:.0f})",
    )
    setup.set_defaults(func=cmd_setup)


def problems_with(args: argparse.Namespace, settings: Settings) -> list[str]:
    problems = []
    if server_secret(settings) is None:
        problems.append(
            "set TINYDESK_SECRET_KEY (or TINYDESK_ADMIN_TOKEN) to the server's value: the "
            "credentials are stored encrypted under it"
        )
    public_url = args.public_url or settings.public_url
    if not public_url:
        problems.append(
            "say where GitHub sends webhooks: --public-url https://desk.example.com "
            "(or TINYDESK_PUBLIC_URL)"
        )
    elif server_url_problem(public_url):
        problems.append(f"--public-url must be an http(s) URL, got {public_url!r}")
    if args.org is not None and not LOGIN.fullmatch(args.org):
        problems.append(f"--org {args.org!r} is not a GitHub login")
    if args.github_url is not None and (problem := server_url_problem(args.github_url)):
        problems.append(f"--github-url: {problem}")
    if args.name is not None and not 0 < len(args.name.strip()) <= MAX_APP_NAME:
        problems.append(f"--name must have 1 to {MAX_APP_NAME} characters")
    if not 0 <= args.port <= 65535:
        problems.append(f"--port must be between 0 and 65535, got {args.port}")
    if args.timeout <= 0:
        problems.append("--timeout must be a positive number of seconds")
    return problems


def cmd_setup(args: argparse.Namespace, settings: Settings) -> int:
    problems = problems_with(args, settings)
    if problems:
        for problem in problems:
            print(f"tinydesk: {problem}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run_setup(args, settings))
    except OSError as exc:
        print(
            f"tinydesk: cannot listen on {args.host}:{args.port} or reach the database: {exc}",
            file=sys.stderr,
        )
        return 1


async def run_setup(args: argparse.Namespace, settings: Settings) -> int:
    public_url = (args.public_url or settings.public_url or "").rstrip("/")
    choice = Choice(
        organization=args.org,
        server_url=args.github_url,
        name=(args.name or "").strip() or default_app_name(),
    )
    db = Database(settings.database_url, pool_size=2)
    try:
        await migrate.upgrade(db.engine)
        before = await registered_app(db)
        return await listen_for_registration(args, settings, db, choice, public_url, before)
    finally:
        await db.dispose()


async def listen_for_registration(
    args: argparse.Namespace,
    settings: Settings,
    db: Database,
    choice: Choice,
    public_url: str,
    before: RegisteredApp | None,
) -> int:
    token = secrets.token_urlsafe(16)
    start_path = f"/setup/{token}"
    done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    listener: dict[str, str] = {}

    async def start(request: web.Request) -> web.StreamResponse:
        return await registration_page(
            request,
            choice,
            public_url=public_url,
            redirect_base=listener["url"],
            admin_session=None,
        )

    async def callback(request: web.Request) -> web.StreamResponse:
        response, app = await finish_registration(request, again=start_path)
        if app is not None and not done.done():
            done.set_result(app)
        return response

    app = web.Application(middlewares=[error_middleware])
    app[SETTINGS] = settings
    app[DB] = db
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get(start_path, start)
    app.router.add_get(CALLBACK_PATH, callback)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        port = runner.addresses[0][1]
        shown = f"[{args.host}]" if ":" in args.host else args.host
        listener["url"] = f"http://{shown}:{port}"
        if before is not None:
            print(f"The App stored now ({before.slug}, id {before.app_id}) will be replaced.")
        print(
            f"Open this URL in a browser to register the GitHub App on GitHub:\n"
            f"  {listener['url']}{start_path}\n"
            f"(webhooks will go to {public_url}/webhooks/github; waiting up to "
            f"{args.timeout:.0f} s, Ctrl-C to stop)",
            flush=True,
        )
        waiting: asyncio.Future[object] = asyncio.ensure_future(stopped.wait())
        try:
            await asyncio.wait(
                [done, waiting], timeout=args.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiting.cancel()
        if done.done():
            registered = done.result()
            assert isinstance(registered, RegisteredApp)
            await asyncio.sleep(0.2)  # let the browser have its page before the listener stops
            print(
                f"Registered GitHub App {registered.name} ({registered.slug}, App id "
                f"{registered.app_id}): {registered.html_url}"
            )
            print(f"Install it on your repositories: {registered.install_url}")
            print(
                "Its credentials are stored encrypted in the database; (re)start "
                "`tinydesk serve` with the same TINYDESK_SECRET_KEY (or admin token) to use it.",
                flush=True,
            )
            return 0
        if stopped.is_set():
            print("tinydesk: setup stopped; nothing was stored", file=sys.stderr)
            return 130
        print(
            f"tinydesk: no answer from GitHub within {args.timeout:.0f} s; nothing was stored",
            file=sys.stderr,
        )
        return 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
