"""``tinydesk mail-in < message.eml``: one message from a mail server's pipe (Postfix's
``pipe``, Exim's ``pipe`` transport, procmail), worked as the SMTP listener would.

Exit codes are sendmail's (sysexits.h), which MTAs act on: 0 the message was taken (a ticket,
a comment, or recorded as ignored or refused), 65 (EX_DATAERR) it is not a mail message or is
too large (the MTA bounces it), 75 (EX_TEMPFAIL) it could not be stored now (the MTA keeps it
and tries again).
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.serve import run_with_db
from bot.config import Settings, StartupError
from bot.logs import configure_logging
from bot.mail.incoming.deliver import MailNotConfigured, deliver
from bot.mail.incoming.parse import Unparsable
from storage.database import Database

EX_OK = 0
EX_DATAERR = 65
EX_TEMPFAIL = 75


def register(commands: argparse._SubParsersAction) -> None:
    mail_in = commands.add_parser(
        "mail-in",
        help="take one incoming mail message on stdin (for an MTA's pipe)",
        description="Read one RFC 5322 message on stdin and file it: a new ticket, a reply "
        "threaded onto its ticket, or ignored (automatic mail). Exit 0 taken, 65 not a "
        "message or too large, 75 try again later.",
    )
    mail_in.add_argument(
        "--sender",
        metavar="ADDRESS",
        help="the envelope sender (Postfix: ${sender}); empty for a bounce's null sender <>",
    )
    mail_in.add_argument(
        "--recipient",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="an envelope recipient (Postfix: ${recipient}); may be repeated",
    )
    mail_in.set_defaults(func=cmd_mail_in)


def cmd_mail_in(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_level, settings.debug_loggers)
    limit = settings.mail.max_message_bytes
    raw = sys.stdin.buffer.read(limit + 1)
    if len(raw) > limit:
        print(f"tinydesk mail-in: message larger than {limit} bytes", file=sys.stderr)
        return EX_DATAERR
    if not settings.mail.receiving:
        print("tinydesk mail-in: set TINYDESK_MAIL_FROM to take mail in", file=sys.stderr)
        return EX_TEMPFAIL

    async def work(db: Database) -> int:
        outcome = await deliver(
            db, settings, raw, sender=args.sender, recipients=tuple(args.recipient)
        )
        ticket = f" {outcome.public_id}" if outcome.public_id else ""
        print(f"{outcome.decision}{ticket} ({outcome.reason})")
        return EX_OK

    try:
        return run_with_db(settings, work)
    except Unparsable as exc:
        print(f"tinydesk mail-in: not a mail message: {exc}", file=sys.stderr)
        return EX_DATAERR
    except MailNotConfigured as exc:
        print(f"tinydesk mail-in: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    except StartupError as exc:
        for line in exc.lines:
            print(f"tinydesk mail-in: {line}", file=sys.stderr)
        return EX_TEMPFAIL
    except Exception as exc:  # the database went away mid-way, a disk full, ...
        print(
            f"tinydesk mail-in: could not store the message: {type(exc).__name__}", file=sys.stderr
        )
        return EX_TEMPFAIL
