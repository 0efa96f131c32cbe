"""``tinydesk mail digest --now``: send the staff digest (``TINYDESK_MAIL_DIGEST_TO``) at once,
through the relay, whether or not today's went out (README, "Email out")."""

from __future__ import annotations

import argparse
import sys

from bot.cli.serve import run_with_db
from bot.config import Settings
from bot.jobs.kinds import JobKind
from bot.jobs.outcomes import GiveUp, RetryLater
from bot.mail.outgoing import digest
from bot.mail.outgoing.deliver import deliver
from bot.mail.outgoing.queue import mail_out
from bot.mail.outgoing.send import parse_relay
from storage.database import Database
from storage.types import utcnow


def register(commands: argparse._SubParsersAction) -> None:
    mail = commands.add_parser("mail", help="email out: the staff digest")
    actions = mail.add_subparsers(title="actions", metavar="ACTION")
    send = actions.add_parser(
        "digest", help="mail the staff digest of open tickets and SLA breaches"
    )
    send.add_argument(
        "--now", action="store_true", help="send it now (without: queue today's, once a day)"
    )
    send.set_defaults(func=cmd_digest)


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    out = mail_out(settings)
    if out is None or settings.mail.smtp_url is None:
        print(
            "tinydesk: mail is not sent: set TINYDESK_MAIL_FROM, TINYDESK_SMTP_URL and "
            "TINYDESK_SECRET_KEY (or TINYDESK_ADMIN_TOKEN)",
            file=sys.stderr,
        )
        return 1
    if not settings.mail.digest_to:
        print("tinydesk: TINYDESK_MAIL_DIGEST_TO is not set: nobody to send it to", file=sys.stderr)
        return 1
    relay = parse_relay(settings.mail.smtp_url)

    async def work(db: Database) -> int:
        day = digest.today()
        if not args.now:
            queued = await digest.queue_digest(db, day)
            print(f"digest of {day} {'queued' if queued else 'was queued already'}")
            return 0
        stamp = utcnow().isoformat()
        mails = await digest.store_digest(db, out, day, stamp)
        for mail in mails:
            try:
                went = await deliver(
                    db,
                    out,
                    relay,
                    mail,
                    defer_kind=JobKind.MAIL_DIGEST,
                    defer_args={"day": day, "at": stamp},
                )
            except (RetryLater, GiveUp) as exc:
                print(
                    f"tinydesk: the digest to {mail.to_address} was not sent: {exc}",
                    file=sys.stderr,
                )
                return 1
            if not went:
                print(f"the digest to {mail.to_address} waits for the rate limit (queued)")
        print(f"digest of {day} sent to {len(mails)} address{'es' if len(mails) != 1 else ''}")
        return 0

    return run_with_db(settings, work)
