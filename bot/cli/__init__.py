"""The ``tinydesk`` command: wiring only; the work is done by the modules it calls."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import keys, products, serve
from bot.cli.receive import load_payload, post_delivery
from bot.config import ConfigError, Settings
from bot.sim import demo


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

    serve.register(commands)
    products.register(commands)
    receive = commands.add_parser(
        "receive", help="sign a webhook payload file and post it to a running server"
    )
    receive.add_argument("event", help="the X-GitHub-Event name, e.g. pull_request")
    receive.add_argument("payload", type=Path, help="a JSON file holding the delivery body")
    receive.add_argument(
        "--url", help="the webhook URL (default http://localhost:$PORT/webhooks/github)"
    )
    receive.add_argument("--delivery-id", help="X-GitHub-Delivery (default: a new UUID)")
    receive.set_defaults(func=cmd_receive)
    keys.register(commands)
    demo.register(commands)
    return parser


def cmd_receive(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.github_webhook_secret:
        print(
            "tinydesk: set GITHUB_WEBHOOK_SECRET (the server's) to sign the delivery",
            file=sys.stderr,
        )
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


if __name__ == "__main__":
    sys.exit(main())
