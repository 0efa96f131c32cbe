"""The ``tinydesk`` command: wiring only; the work is done by the modules it calls."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from bot.cli import keys, products, receive, serve
from bot.config import Settings, StartupError
from bot.sim import demo


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env(os.environ if environ is None else environ)
        return args.func(args, settings)
    except StartupError as exc:  # settings, port, database: one line each, exit code 2
        if args.debug:
            traceback.print_exception(exc)
        for line in exc.lines:
            print(f"tinydesk: {line}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinydesk",
        description="TinyDesk: support tickets that follow their fix through GitHub.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback behind a start-up error"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve.register(commands)
    products.register(commands)
    receive.register(commands)
    keys.register(commands)
    demo.register(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
