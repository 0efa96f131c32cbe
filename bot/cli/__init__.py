"""The ``tinydesk`` command: wiring only; the work is done by the modules it calls."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from aiohttp import web

from bot.sim import demo
from bot.cli import keys as keys_cli
from bot.app import create_app, warn_if_github_missing
from bot.config import ConfigError, Settings
from bot.errors import ApiError
from bot.logs import configure_logging
from bot.tickets.products import product_view, register_product, validate_product
from bot.cli.receive import load_payload, post_delivery
from storage import migrate
from storage.database import Database
from storage.repos.products import ProductRepo

log = logging.getLogger("tinydesk")


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env(os.environ if environ is None else environ)
    except ConfigError as exc:
        print(f"tinydesk: {exc}", file=sys.stderr)
        return 2
    return args.func(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinydesk",
        description="TinyDesk: support tickets that follow their fix through GitHub.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web server (and its workers)")
    serve.add_argument("--host", help="interface to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port to listen on (default $PORT or 8000)")
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="create or upgrade the schema to the newest revision")
    upgrade.set_defaults(func=cmd_db_upgrade)
    current = db.add_parser("current", help="print the schema revision of the database")
    current.set_defaults(func=cmd_db_current)

    products = commands.add_parser("products", help="register products").add_subparsers(metavar="ACTION")
    add = products.add_parser("add", help="register a product and its GitHub repository")
    add.add_argument("slug", help="the productSlug clients send, e.g. my-saas-app")
    add.add_argument("--repo", required=True, metavar="OWNER/NAME", help="GitHub repository for its issues")
    add.add_argument("--name", help="display name (default: the slug)")
    add.add_argument("--no-deployment-tracking", action="store_true",
                     help="go MERGED -> CLOSED without waiting for a deployment")
    add.add_argument("--environments", metavar="ENV[,ENV...]", default="production",
                     help="deployment environments that count as production (default: production)")
    add.set_defaults(func=cmd_products_add)
    listing = products.add_parser("list", help="list registered products")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_products_list)
    remove = products.add_parser("remove", help="remove a product (its tickets are kept)")
    remove.add_argument("slug")
    remove.set_defaults(func=cmd_products_remove)
    receive = commands.add_parser("receive", help="sign a webhook payload file and post it to a running server")
    receive.add_argument("event", help="the X-GitHub-Event name, e.g. pull_request")
    receive.add_argument("payload", type=Path, help="a JSON file holding the delivery body")
    receive.add_argument("--url", help="the webhook URL (default http://localhost:$PORT/webhooks/github)")
    receive.add_argument("--delivery-id", help="X-GitHub-Delivery (default: a new UUID)")
    receive.set_defaults(func=cmd_receive)
    keys_cli.register(commands)
    demo.register(commands)
    return parser


def cmd_receive(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.github_webhook_secret:
        print("tinydesk: set GITHUB_WEBHOOK_SECRET (the server's) to sign the delivery", file=sys.stderr)
        return 2
    try:
        body = load_payload(args.payload)
    except (OSError, ValueError) as exc:
        print(f"tinydesk: cannot read {args.payload}: {exc}", file=sys.stderr)
        return 2
    url = args.url or f"http://localhost:{settings.port}/webhooks/github"
    try:
        status, text = asyncio.run(
            post_delivery(url, args.event, body, settings.github_webhook_secret, args.delivery_id)
        )
    except OSError as exc:
        print(f"tinydesk: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print(f"{status} {text}")
    return 0 if 200 <= status < 300 else 1


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

    async def upgraded(_db: Database) -> int:
        log.info("database schema is at revision %s", migrate.head_revision())
        return 0

    if run_with_db(settings, upgraded):
        return 1
    warn_if_github_missing(settings)
    app = create_app(settings)

    async def announce(_app: web.Application) -> None:
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        log.info("TinyDesk listening on http://%s:%s (database %s)", shown, port, _redact(settings.database_url))

    app.on_startup.append(announce)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0


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


def cmd_products_add(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        fields = validate_product(
            {
                "slug": args.slug,
                "repo": args.repo,
                "name": args.name,
                "deploymentTracking": not args.no_deployment_tracking,
                "productionEnvironments": [e for e in args.environments.split(",") if e.strip()],
            }
        )
        async with db.begin() as session:
            product = await register_product(session, fields)
        print(f"registered {product.slug} -> {product.repo_full_name}")
        return 0

    return run_with_db(settings, work)


def cmd_products_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            products = await ProductRepo(session).all()
        if args.json:
            print(json.dumps([product_view(p) for p in products], indent=2))
            return 0
        if not products:
            print("no products yet: tinydesk products add SLUG --repo OWNER/NAME")
            return 0
        width = max(len(p.slug) for p in products)
        for p in products:
            installed = "app installed" if p.installation_id else "app not installed yet"
            deploys = "deployments tracked" if p.deployment_tracking else "deployments not tracked"
            print(f"{p.slug:<{width}}  {p.repo_full_name}  ({p.name}; {installed}; {deploys})")
        return 0

    return run_with_db(settings, work)


def cmd_products_remove(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.begin() as session:
            removed = await ProductRepo(session).remove(args.slug)
        if not removed:
            print(f"tinydesk: no product has the slug {args.slug!r}", file=sys.stderr)
            return 1
        print(f"removed {args.slug}")
        return 0

    return run_with_db(settings, work)


if __name__ == "__main__":
    sys.exit(main())
