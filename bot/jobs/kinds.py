"""The kinds of outbox job.

Most are one thing TinyDesk does on GitHub (bot/github/outbox.py), worked only once a GitHub
App is configured. The rest tell someone outside (webhooks, callbacks, mail): a worker of
their own works them whether or not GitHub is configured (bot/app.py ``build_workers``).
"""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    """Stored in ``jobs.kind``; a job's ``args`` are the ids its handler needs."""

    CREATE_ISSUE = "create_issue"
    REFRESH_STATUS_COMMENT = "refresh_status_comment"
    COMMENT_ON_PR = "comment_on_pr"
    REMOVE_LABEL = "remove_label"
    CONFIRM_CLOSE = "confirm_close"
    # A merge and its deployment worked at once by two processes: look again once committed.
    SHIP_CHECK = "ship_check"
    # Not GitHub: POST an SLA warning or breach to its product's webhook (bot.tickets.sla_alerts).
    SLA_NOTIFY = "sla_notify"
    # Not GitHub: POST an hour-bank warning to its client's webhook (bot.billing.bank_webhook).
    BANK_NOTIFY = "bank_notify"
    # Not GitHub: mail a ticket's submitter what happened since their last mail
    # (bot.mail.outgoing.deliver); one job per ticket and burst.
    SEND_MAIL = "send_mail"
    # Not GitHub: the staff's daily digest (bot.mail.outgoing.digest).
    MAIL_DIGEST = "mail_digest"
    # Not GitHub: POST one ticket event to the ticket's callbackUrl (bot.tickets.callbacks).
    TICKET_CALLBACK = "ticket_callback"
    # Not GitHub: mail a staff member their invitation or password-reset link (bot.staff.mail).
    STAFF_MAIL = "staff_mail"


# Worked by the GitHub outbox; every other kind by the notification worker.
GITHUB_KINDS: frozenset[str] = frozenset(
    {
        JobKind.CREATE_ISSUE,
        JobKind.REFRESH_STATUS_COMMENT,
        JobKind.COMMENT_ON_PR,
        JobKind.REMOVE_LABEL,
        JobKind.CONFIRM_CLOSE,
        JobKind.SHIP_CHECK,
    }
)
NOTIFY_KINDS: frozenset[str] = frozenset(JobKind) - GITHUB_KINDS
