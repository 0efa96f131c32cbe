"""The ``tinydesk`` command: wiring only; the work is done by the modules it calls."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from bot import __version__
from bot.cli import (
    invoices,
    keys,
    mail,
    mail_in,
    mcp,
    products,
    receive,
    serve,
    setup,
    sla,
    templates,
    wait,
    worker,
)
from bot.config import Settings, StartupError
from bot.sim import demo


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        # `tinydesk` or a group without its action (`tinydesk keys`): that command's own help,
        # and 2, as argparse answers a usage error.
        args.command_parser.print_help(sys.stderr)
        return 2
    if not args.reads_environment:
        # `tinydesk demo` makes its own throwaway settings: nothing in the environment stops it.
        return args.func(args, Settings())
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback behind a start-up error"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve.register(commands)
    worker.register(commands)
    products.register(commands)
    receive.register(commands)
    mail_in.register(commands)
    keys.register(commands)
    templates.register(commands)
    sla.register(commands)
    invoices.register(commands)
    wait.register(commands)
    mail.register(commands)
    mcp.register(commands)
    demo.register(commands)
    setup.register(commands)
    _name_each_parser(parser)
    parser.set_defaults(reads_environment=True)  # demo's parser sets it False
    return parser


def _name_each_parser(parser: argparse.ArgumentParser) -> None:
    """Each parser, down to every action, puts itself in the namespace as ``command_parser``
    (the innermost one the command line reached wins): ``main`` prints that one's help when
    an action is missing, and a command words its errors as that parser's
    (``bot.cli.terms``)."""
    parser.set_defaults(command_parser=parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _name_each_parser(sub)


if __name__ == "__main__":
    sys.exit(main())
