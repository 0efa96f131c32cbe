"""The ``tinydesk`` command: wiring only; the work is done by the modules it calls."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bot.cli import keys, products, receive, serve, setup
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
    receive.register(commands)
    keys.register(commands)
    demo.register(commands)
    setup.register(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
