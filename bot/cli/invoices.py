"""``tinydesk invoices list | draft | issue | pdf | void | pay`` (issue 16): invoices from the
shell, through the same validators and services as the desk API (``bot.billing.invoices``).

Bad input is named by its flag, exit code 2; a refusal of the service (no such invoice,
nothing to invoice, issued already) is one line on stderr, exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.billing import clients as client_service
from bot.billing import invoices as invoice_service
from bot.cli.serve import run_with_db
from bot.cli.terms import Flag, Flags, refuse
from bot.config import Settings
from bot.errors import ApiError
from bot.rules import billing_input
from bot.rules.money import amount_text
from bot.views.billing import invoice_summary
from storage.database import Database
from storage.models import Invoice
from storage.repos.billing import BillingRepo
from storage.types import utcnow

# Who the CLI's drafts and credit notes are made by, as its templates are.
CLI = "cli"
STATUSES = ("draft", "issued", "paid", "void")
LIST_LIMIT = 200
# The body field each flag fills, for the validators' errors (bot.cli.terms).
FLAGS: Flags = {
    "client": Flag("--client"),
    "periodStart": Flag("--period-start"),
    "periodEnd": Flag("--period-end"),
    "issueDate": Flag("--issue-date"),
    "paidOn": Flag("--paid-on"),
    "reason": Flag("--reason"),
    "status": Flag("--status"),
}


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser(
        "invoices",
        help="invoices: drafts, issuing, PDFs, payments",
        description="Invoices (issue 16): a draft holds a client's billable time and contract "
        "charges not yet invoiced; issuing gives it the next number (INV-2026-0001) and "
        "stores its PDF; an issued invoice never changes but its status.",
    ).add_subparsers(metavar="ACTION")
    listing = group.add_parser("list", help="list invoices, newest first")
    listing.add_argument("--client", metavar="ID", help="only this client's (cli_…)")
    listing.add_argument("--status", metavar="|".join(STATUSES), help="only those in this status")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_invoices_list)
    draft = group.add_parser("draft", help="make a draft for a client and period")
    draft.add_argument("--client", metavar="ID", required=True, help="the client (cli_…)")
    draft.add_argument(
        "--period-end", metavar="DATE", required=True, help="the last day billed, e.g. 2026-11-30"
    )
    draft.add_argument(
        "--period-start", metavar="DATE", help="the first day (default: the first of that month)"
    )
    draft.set_defaults(func=cmd_invoices_draft)
    issue = group.add_parser("issue", help="issue a draft: its number and PDF are final")
    issue.add_argument("ref", metavar="REF", help="the draft's id (inv_…)")
    issue.add_argument(
        "--issue-date", metavar="DATE", help="default: today in the client's time zone"
    )
    issue.set_defaults(func=cmd_invoices_issue)
    pdf = group.add_parser("pdf", help="write an invoice's PDF (the one stored when issued)")
    pdf.add_argument("ref", metavar="NUMBER", help="INV-2026-0001, CN-2026-0001 or a draft's id")
    pdf.add_argument("--out", metavar="FILE", required=True, type=Path, help="where to write it")
    pdf.set_defaults(func=cmd_invoices_pdf)
    void = group.add_parser("void", help="void an issued, unpaid invoice (its number stays used)")
    void.add_argument("ref", metavar="NUMBER")
    void.add_argument("--reason", metavar="TEXT", required=True, help="why, kept on it")
    void.set_defaults(func=cmd_invoices_void)
    pay = group.add_parser("pay", help="mark an issued invoice paid")
    pay.add_argument("ref", metavar="NUMBER")
    pay.add_argument("--paid-on", metavar="DATE", help="default: today")
    pay.set_defaults(func=cmd_invoices_pay)


def _run(
    args: argparse.Namespace, settings: Settings, work: Callable[[Database], Awaitable[int]]
) -> int:
    """``run_with_db`` where a validator's 400 is worded as a usage error (exit code 2)."""

    async def guarded(db: Database) -> int:
        try:
            return await work(db)
        except ApiError as exc:
            if exc.status != 400 or not exc.extra.get("fields"):
                raise
            return refuse(args, exc, FLAGS)

    return run_with_db(settings, guarded)


def _total(invoice: Invoice) -> str:
    return f"{amount_text(invoice.total, invoice.currency)} {invoice.currency}"


def _name(invoice: Invoice) -> str:
    return invoice.number or invoice.desk_id


def cmd_invoices_list(args: argparse.Namespace, settings: Settings) -> int:
    if args.status is not None and args.status not in STATUSES:
        error = ApiError(400, "Invalid status", fields={"status": "must be " + ", ".join(STATUSES)})
        return refuse(args, error, FLAGS)

    async def work(db: Database) -> int:
        async with db.session() as session:
            repo = BillingRepo(session)
            client_id = None
            if args.client:
                client_id = (await client_service.find_client(session, args.client)).id
            rows = await repo.invoices(
                client_id=client_id, status=args.status, before_id=None, limit=LIST_LIMIT
            )
            clients = {row.client_id: await repo.client(row.client_id) for row in rows}
            if args.json:
                views = [invoice_summary(row, clients[row.client_id]) for row in rows]
                print(json.dumps(views, indent=2))
                return 0
            if not rows:
                print("no invoices: tinydesk invoices draft --client ID --period-end DATE")
                return 0
            for row in rows:
                client = clients[row.client_id]
                print(
                    f"{_name(row)}  {row.status}  {client.name if client else '?'}  "
                    f"{row.period_start} to {row.period_end}  {_total(row)}"
                )
        return 0

    return run_with_db(settings, work)


def _checked(args: argparse.Namespace, check: Callable[[], Any]) -> tuple[Any, int | None]:
    try:
        return check(), None
    except ApiError as exc:
        return None, refuse(args, exc, FLAGS)


def cmd_invoices_draft(args: argparse.Namespace, settings: Settings) -> int:
    body = {"client": args.client, "periodEnd": args.period_end, "periodStart": args.period_start}
    fields, refused = _checked(args, lambda: billing_input.validate_draft(body))
    if refused is not None:
        return refused

    async def work(db: Database) -> int:
        async with db.begin() as session:
            client = await client_service.find_client(session, fields["client"])
            invoice = await invoice_service.make_draft(
                session, client, fields, settings.seller, CLI, utcnow()
            )
            lines = len(await BillingRepo(session).lines(invoice.id))
            print(
                f"drafted {invoice.desk_id} for {client.name}, {invoice.period_start} to "
                f"{invoice.period_end}: {lines} line(s), total {_total(invoice)}"
            )
        return 0

    return _run(args, settings, work)


def cmd_invoices_issue(args: argparse.Namespace, settings: Settings) -> int:
    checked, refused = _checked(
        args, lambda: billing_input.validate_issue({"issueDate": args.issue_date})
    )
    if refused is not None:
        return refused
    issue_date, due_date = checked

    async def work(db: Database) -> int:
        async with db.begin() as session:
            invoice = await invoice_service.find_invoice(session, args.ref, lock=True)
            client = await BillingRepo(session).client(invoice.client_id)
            assert client is not None
            await invoice_service.issue(session, invoice, client, issue_date, due_date, utcnow())
            print(
                f"issued {invoice.number} ({invoice.desk_id}) on {invoice.issue_date}, due "
                f"{invoice.due_date}: total {_total(invoice)}"
            )
        return 0

    return _run(args, settings, work)


def cmd_invoices_pdf(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            invoice = await invoice_service.find_invoice(session, args.ref)
            view = await invoice_service.view_of(session, invoice)
            stored = invoice.pdf
        # An issued invoice's PDF is the one stored when it was issued; a draft's is drawn now.
        pdf = stored if stored is not None else await invoice_service.render_draft(view)
        try:
            args.out.write_bytes(pdf)
        except OSError as exc:
            print(f"tinydesk: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
            return 1
        print(f"wrote {_name(invoice)} to {args.out} ({len(pdf)} bytes)")
        return 0

    return run_with_db(settings, work)


def cmd_invoices_void(args: argparse.Namespace, settings: Settings) -> int:
    checked, refused = _checked(
        args, lambda: billing_input.validate_status_change({"reason": args.reason}, "voidedOn")
    )
    if refused is not None:
        return refused
    _, reason = checked
    if reason is None:
        blank = ApiError(400, "reason is required", fields={"reason": "reason is required"})
        return refuse(args, blank, FLAGS)

    async def work(db: Database) -> int:
        async with db.begin() as session:
            invoice = await invoice_service.find_invoice(session, args.ref, lock=True)
            await invoice_service.void(session, invoice, None, reason, utcnow())
            print(f"voided {invoice.number} on {invoice.voided_on}: {reason}")
        return 0

    return _run(args, settings, work)


def cmd_invoices_pay(args: argparse.Namespace, settings: Settings) -> int:
    checked, refused = _checked(
        args, lambda: billing_input.validate_status_change({"paidOn": args.paid_on}, "paidOn")
    )
    if refused is not None:
        return refused
    paid_on, _ = checked

    async def work(db: Database) -> int:
        async with db.begin() as session:
            invoice = await invoice_service.find_invoice(session, args.ref, lock=True)
            await invoice_service.mark_paid(session, invoice, paid_on, utcnow())
            print(f"marked {invoice.number} paid on {invoice.paid_on}")
        return 0

    return _run(args, settings, work)
