"""Validation errors in the command's own terms.

The validators the CLI shares with the API (``bot.tickets``) name the fields of a JSON body
(``productionEnvironments``) and end with an API hint ("Fix the fields listed in
`fields`"). A command names its flags instead (``--environments``): each command keeps a
``Flags`` mapping beside its arguments, from the body field it fills to the flag that sets
it, and ``refuse`` prints the errors as argparse prints its own (usage, then
``PROG: error: argument FLAG: RULE``), exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping

from bot.errors import ApiError


@dataclasses.dataclass(frozen=True)
class Flag:
    """The flag (or positional) that sets a body field; ``rule`` rewords the validator's
    sentence where it speaks API (arrays, null). ``name`` None: no one flag (nothing to
    change), the rule is the whole message."""

    name: str | None
    rule: str | None = None


Flags = Mapping[str, Flag]


def refuse(args: argparse.Namespace, exc: ApiError, flags: Flags) -> int:
    """Print a validator's refusal in ``args``'s command's terms; 2, as argparse exits."""
    parser: argparse.ArgumentParser = args.command_parser
    parser.print_usage(sys.stderr)
    fields: dict[str, str] = exc.extra.get("fields") or {}
    for line in [in_cli_terms(f, m, flags) for f, m in fields.items()] or [exc.error]:
        print(f"{parser.prog}: error: {line}", file=sys.stderr)
    return 2


def in_cli_terms(field: str, message: str, flags: Flags) -> str:
    """``productionEnvironments must be ...`` -> ``argument --environments: must ...``."""
    flag = flags.get(field)
    if flag is None:  # a field this command never fills; say it as the validator did
        return message
    rule = flag.rule or message.removeprefix(field).strip()
    if rule == "is required":  # argparse checks presence, so the value was blank
        rule = "must not be blank"
    return f"argument {flag.name}: {rule}" if flag.name else rule
