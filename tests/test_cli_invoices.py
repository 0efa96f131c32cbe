"""``tinydesk invoices list | draft | issue | pdf | void | pay``, the real command run as a
subprocess (as tests/test_cli.py runs it): what it prints, its exit codes (0 done, 1 refused
by the service, 2 bad input named by its flag), nothing stored on a refusal, and the PDF it
writes being the one stored when the invoice was issued."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import select

from bot.billing import clients as client_service
from bot.billing import time_entries
from bot.cli import main
from bot.tickets.audit import Actor
from bot.tickets.intake import open_ticket
from storage.database import Database
from storage.models import Invoice
from tests.test_cli import tinydesk

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def seed(env) -> str:
    """A client billed 90.00 EUR an hour plus 19 % VAT, and 45 minutes of billable work on
    10 November 2026 (and 20 not billable); returns the client's id."""
    assert main(["invoices", "list"], env) == 0  # creates and migrates the database

    async def write() -> str:
        db = Database(env["DATABASE_URL"])
        try:
            async with db.begin() as session:
                client = await client_service.create_client(
                    session,
                    {
                        "name": "Acme GmbH",
                        "currency": "EUR",
                        "hourly_rate": 9000,
                        "time_zone": "Europe/Berlin",
                        "taxes": [{"name": "VAT", "rate": "19"}],
                        "domains": ["acme.test"],
                    },
                    None,
                    NOW,
                )
                opened = await open_ticket(
                    session, product=None, subject="VPN", body="b", email="bob@acme.test"
                )
                for minutes, billable in ((45, True), (20, False)):
                    await time_entries.log_time(
                        session,
                        "sam",
                        opened.ticket,
                        {
                            "minutes": minutes,
                            "description": "VPN fix",
                            "billable": billable,
                            "started_at": dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC),
                        },
                        NOW,
                        actor=Actor("sam", "Sam"),
                    )
                return client.desk_id
        finally:
            await db.dispose()

    return asyncio.run(write())


@dataclasses.dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(env, capsys):
    """``tinydesk`` in this process (``main``, as the script calls it), for speed; the first
    test runs the real script too."""

    def run(*argv: str, env: dict[str, str] = env) -> Done:
        capsys.readouterr()
        try:
            code = main(list(argv), env)
        except SystemExit as exc:  # argparse's own usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


def listed(cli, *flags: str) -> list[dict]:
    proc = cli("invoices", "list", "--json", *flags)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


async def stored_pdf(env, number: str) -> bytes | None:
    db = Database(env["DATABASE_URL"])
    try:
        async with db.session() as session:
            return (
                await session.execute(select(Invoice.pdf).where(Invoice.number == number))
            ).scalar_one()
    finally:
        await db.dispose()


def test_an_invoice_is_drafted_issued_written_as_pdf_paid(env, cli, tmp_path):
    client = seed(env)
    proc = tinydesk("invoices", "list", env=env)  # the real script, once
    assert proc.stdout == "no invoices: tinydesk invoices draft --client ID --period-end DATE\n"

    proc = cli("invoices", "draft", "--client", client, "--period-end", "2026-11-30")
    assert proc.returncode == 0, proc.stderr
    # 45 min at 90.00 = 67.50; VAT 19 % = 12.825, rounded half up to 12.83; total 80.33.
    (draft,) = listed(cli)
    assert proc.stdout == (
        f"drafted {draft['id']} for Acme GmbH, 2026-11-01 to 2026-11-30: 1 line(s), "
        "total 80.33 EUR\n"
    )
    assert (draft["status"], draft["number"], draft["total"]) == ("draft", None, "80.33")
    proc = cli("invoices", "list", "--status", "draft")
    assert proc.stdout == f"{draft['id']}  draft  Acme GmbH  2026-11-01 to 2026-11-30  80.33 EUR\n"

    proc = cli("invoices", "issue", draft["id"], "--issue-date", "2026-12-01")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        f"issued INV-2026-0001 ({draft['id']}) on 2026-12-01, due 2026-12-15: total 80.33 EUR\n"
    )
    proc = cli("invoices", "issue", draft["id"])
    assert proc.returncode == 1
    assert "tinydesk: The invoice is issued already" in proc.stderr

    out = tmp_path / "invoice.pdf"
    proc = cli("invoices", "pdf", "inv-2026-0001", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"wrote INV-2026-0001 to {out} ({out.stat().st_size} bytes)\n"
    assert out.read_bytes() == asyncio.run(stored_pdf(env, "INV-2026-0001"))

    proc = cli("invoices", "pay", "INV-2026-0001", "--paid-on", "2026-12-10")
    assert proc.returncode == 0 and proc.stdout == "marked INV-2026-0001 paid on 2026-12-10\n"
    proc = cli("invoices", "void", "INV-2026-0001", "--reason", "wrong")
    assert proc.returncode == 1 and "A paid invoice cannot be voided" in proc.stderr
    (paid,) = listed(cli, "--client", client)
    assert (paid["number"], paid["status"]) == ("INV-2026-0001", "paid")
    assert listed(cli, "--status", "void") == []


def test_void_then_the_time_is_drafted_again_under_the_next_number(env, cli):
    client = seed(env)
    assert main(["invoices", "draft", "--client", client, "--period-end", "2026-11-30"], env) == 0
    (draft,) = listed(cli)
    assert main(["invoices", "issue", draft["id"], "--issue-date", "2026-12-01"], env) == 0
    proc = cli("invoices", "void", "INV-2026-0001", "--reason", "wrong address")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("voided INV-2026-0001 on ") and "wrong address" in proc.stdout
    assert main(["invoices", "draft", "--client", client, "--period-end", "2026-11-30"], env) == 0
    again = next(i for i in listed(cli) if i["status"] == "draft")
    assert main(["invoices", "issue", again["id"], "--issue-date", "2026-12-02"], env) == 0
    numbers = sorted(i["number"] for i in listed(cli))
    assert numbers == ["INV-2026-0001", "INV-2026-0002"]  # a void number stays used


def test_bad_input_names_the_flags_exits_2_and_stores_nothing(env, cli, tmp_path):
    client = seed(env)
    proc = cli("invoices", "draft", "--client", client, "--period-end", "30.11.2026")
    assert proc.returncode == 2
    assert "invoices draft: error: argument --period-end: must be a date such as" in proc.stderr
    proc = cli(
        "invoices",
        "draft",
        "--client",
        client,
        "--period-end",
        "2026-11-01",
        "--period-start",
        "2026-11-30",
    )
    assert proc.returncode == 2 and "argument --period-end: must be on or after" in proc.stderr
    proc = cli("invoices", "list", "--status", "lost")
    assert proc.returncode == 2
    assert "argument --status: must be draft, issued, paid, void" in proc.stderr
    proc = cli("invoices", "void", "INV-2026-0001", "--reason", " ")
    assert proc.returncode == 2 and "argument --reason: must not be blank" in proc.stderr
    proc = cli("invoices", "draft", "--period-end", "2026-11-30")
    assert proc.returncode == 2 and "--client" in proc.stderr  # argparse's own
    assert listed(cli) == []

    # Refusals of the service: exit code 1, one line, nothing stored.
    proc = cli("invoices", "draft", "--client", "cli_nope", "--period-end", "2026-11-30")
    assert proc.returncode == 1 and "tinydesk: Client not found" in proc.stderr
    proc = cli("invoices", "draft", "--client", client, "--period-end", "2026-10-31")
    assert proc.returncode == 1 and "tinydesk: Nothing to invoice" in proc.stderr
    proc = cli("invoices", "pdf", "INV-2026-0009", "--out", str(tmp_path / "x.pdf"))
    assert proc.returncode == 1 and "Invoice not found" in proc.stderr
    assert not (tmp_path / "x.pdf").exists()
    assert listed(cli) == []
