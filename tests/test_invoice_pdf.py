"""The invoice PDF and CSV (bot/billing/pdf.py, csv_export.py), read back: pypdf for the text,
Debian's pdftoppm for page 1 as a PNG, csv.DictReader for the export."""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import struct
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bot.billing.csv_export import HEADER, invoice_lines_csv
from bot.billing.pdf import DRAFT_HEADING, render_invoice_pdf

ROOT = Path(__file__).resolve().parents[1]
CENT = Decimal("0.01")
ROUNDING = (
    "Time is rounded up to 15 minutes per entry in Europe/Berlin; each line's amount is "
    "rounded half up to the cent; taxes are computed on the subtotal and rounded half up."
)
FORMULA = "=cmd|' /C calc'!A0"
HOSTILE = "Mail template showed <b>& instead of the sender's name"
LONG = (
    "Migrated the shared mailbox of the front office to the new tenant, re-created the "
    "forwarding rules one by one, checked every delegate's calendar permissions, moved the "
    "archive (14 GB) overnight and walked the team through the new sign-in on Monday morning"
)
SELLER = {
    "name": "Nordlicht IT-Service GmbH",
    "address": "Hafenstraße 12\n20457 Hamburg\nGermany",
    "taxId": "DE123456789",
    "email": "billing@nordlicht.example",
}
CLIENT = {
    "id": "cli_zoe",
    "name": "Zoë's Bäckerei <b>& Café",
    "address": "Marktplatz 3\n10115 Berlin",
    "taxId": None,
}
BANK = {"id": "con_bank", "name": "Bäckerei 20 h/month"}
HANDBOOK = {"id": "con_fixed", "name": "Onboarding, fixed price"}
SUBJECTS = [
    "Printer in the bakery office is offline",
    "Till cannot reach the card terminal",
    "New laptop for Zoë",
    "VPN drops every evening",
    "Backup job reports errors",
]
WORK = [
    "Replaced the toner and reset the print spooler",
    "Updated the terminal firmware and re-paired the till",
    "Installed and enrolled the laptop, copied the profile",
    "Raised the VPN idle timeout and watched a night",
    "Cleaned the backup set and ran a full verify",
    "Called the supplier about the €-sign on receipts",
    "Reviewed the firewall log with the owner",
    "Checked the disk health of the office NAS",
]


def money(value: Decimal) -> str:
    """An amount as the PDF prints it in "en" (Python's own formatting, not babel's)."""
    return f"{value:,.2f}"


def time_line(
    n: int, *, minutes: int, description: str, rate: str = "95.00", kind: str = "time"
) -> dict[str, Any]:
    billed = -(-minutes // 15) * 15  # up to the next quarter hour
    hours = Decimal(billed) / 60
    return {
        "id": f"inl_{n:03d}",
        "kind": kind,
        "date": f"2026-11-{1 + n % 28:02d}",
        "ticket": {"publicId": f"TK-{100 + n:05d}", "subject": SUBJECTS[n % len(SUBJECTS)]},
        "description": description,
        "technician": "alice" if n % 3 else "bob",
        "rawMinutes": minutes,
        "billedMinutes": billed,
        "billedHours": str(hours.quantize(CENT)),
        "rate": rate,
        "amount": str((hours * Decimal(rate)).quantize(CENT, ROUND_HALF_UP)),
        "contract": BANK,
    }


def with_totals(view: dict[str, Any]) -> dict[str, Any]:
    """Subtotal, VAT 7 % on the fixed-fee lines, VAT 19 % on the rest, and the total."""
    reduced = sum(
        (Decimal(x["amount"]) for x in view["lines"] if x["kind"] == "fixedFee"), Decimal(0)
    )
    subtotal = sum((Decimal(x["amount"]) for x in view["lines"]), Decimal(0))
    taxes = [
        {"name": "VAT", "rate": "19", "base": subtotal - reduced},
        {"name": "VAT", "rate": "7", "base": reduced},
    ]
    for tax in taxes:
        tax["amount"] = (tax["base"] * Decimal(tax["rate"]) / 100).quantize(CENT, ROUND_HALF_UP)
    total = subtotal + sum(tax["amount"] for tax in taxes)
    view["subtotal"], view["total"] = str(subtotal), str(total)
    view["taxes"] = [{k: str(v) for k, v in tax.items()} for tax in taxes if tax["base"]]
    return view


def invoice_view(**changes: Any) -> dict[str, Any]:
    """An issued invoice of 40 lines (two pages and more): time on five tickets, a bank
    purchase, an overage, a fixed fee, and the hostile texts."""
    lines = [
        time_line(n, minutes=7 + (n * 23) % 110, description=f"{WORK[n % len(WORK)]} (visit {n})")
        for n in range(36)
    ]
    lines[3]["description"] = HOSTILE
    lines[7]["description"] = LONG
    lines[11]["description"] = FORMULA
    lines[12]["rate"], lines[12]["amount"] = (
        "120.00",
        str((Decimal(lines[12]["billedHours"]) * 120).quantize(CENT, ROUND_HALF_UP)),
    )
    lines.append(
        {
            "id": "inl_bank",
            "kind": "bankPurchase",
            "date": "2026-11-01",
            "ticket": None,
            "description": "Bank of hours, November 2026 (20 h at 85.00)",
            "technician": None,
            "rawMinutes": None,
            "billedMinutes": None,
            "billedHours": "20.00",
            "rate": "85.00",
            "amount": "1700.00",
            "contract": BANK,
        }
    )
    lines.append(
        time_line(
            36, minutes=95, description="Overage beyond the bank", rate="110.00", kind="overage"
        )
    )
    lines.append(
        {
            "id": "inl_fee",
            "kind": "fixedFee",
            "date": None,
            "ticket": None,
            "description": "Printed staff handbook (onboarding package)",
            "technician": None,
            "rawMinutes": None,
            "billedMinutes": None,
            "billedHours": None,
            "rate": None,
            "amount": "1250.00",
            "contract": HANDBOOK,
        }
    )
    lines.append(time_line(39, minutes=44, description="Zoë asked for a € price list export"))
    view: dict[str, Any] = {
        "id": "inv_1",
        "kind": "invoice",
        "number": "INV-2026-0001",
        "status": "issued",
        "issueDate": "2026-12-02",
        "dueDate": "2026-12-16",
        "periodStart": "2026-11-01",
        "periodEnd": "2026-11-30",
        "currency": "EUR",
        "locale": "en",
        "seller": SELLER,
        "client": CLIENT,
        "creditFor": None,
        "lines": lines,
        "rounding": ROUNDING,
        "paidOn": None,
        "voidedOn": None,
        "notes": "Please pay by bank transfer to DE02 1203 0000 0000 2020 51 & quote the number.",
    }
    return with_totals(view) | changes


def credit_note_view() -> dict[str, Any]:
    line = time_line(1, minutes=30, description="Credit for the second visit (no-show)")
    line["kind"], line["amount"], line["billedMinutes"] = "credit", "-47.50", -30
    line["rawMinutes"], line["billedHours"] = -30, "-0.50"
    view = invoice_view(
        kind="creditNote",
        number="CN-2026-0001",
        creditFor="INV-2026-0001",
        lines=[line],
        notes=None,
    )
    return with_totals(view)


def read_text(pdf: bytes) -> list[str]:
    """Each page's text, whitespace made single spaces (wrapped cells read as one line)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def first_words(text: str, count: int = 4) -> str:
    return " ".join(text.split()[:count])


def test_every_line_the_number_each_tax_and_the_total_can_be_read_back() -> None:
    view = invoice_view()
    pages = read_text(render_invoice_pdf(view))
    text = " ".join(pages)

    assert len(pages) >= 2
    assert "INV-2026-0001" in pages[0] and "Invoice" in pages[0]
    for line in view["lines"]:
        if line["ticket"]:
            assert line["ticket"]["publicId"] in text
        assert first_words(line["description"]) in text, line["description"]
        assert money(Decimal(line["amount"])) in text
    assert {tax["rate"] for tax in view["taxes"]} == {"19", "7"}
    for tax in view["taxes"]:
        assert f"VAT {tax['rate']} % of {money(Decimal(tax['base']))}" in text
        assert f"{money(Decimal(tax['amount']))} EUR" in text
    assert f"Total {money(Decimal(view['total']))} EUR" in text
    assert f"Subtotal {money(Decimal(view['subtotal']))} EUR" in text
    assert ROUNDING in text
    assert "DE02 1203 0000 0000 2020 51 & quote" in text


def test_the_header_row_repeats_on_every_page() -> None:
    for page in read_text(render_invoice_pdf(invoice_view())):
        assert "Date Ticket Description Contract Time Rate Amount" in page


def test_seller_client_dates_and_time_are_printed() -> None:
    view = invoice_view()
    text = " ".join(read_text(render_invoice_pdf(view)))

    for part in ("Nordlicht IT-Service GmbH", "Hafenstraße 12", "20457 Hamburg", "DE123456789"):
        assert part in text
    assert "billing@nordlicht.example" in text
    assert "Zoë's Bäckerei <b>& Café" in text and "Marktplatz 3" in text
    assert "Issue date 2026-12-02" in text and "Due date 2026-12-16" in text
    assert "2026-11-01 \N{EN DASH} 2026-11-30" in text
    first = view["lines"][0]  # 7 minutes logged, a quarter hour billed
    assert (first["rawMinutes"], first["billedMinutes"]) == (7, 15)
    assert "0:07 → 0:15" in text
    assert "20:00" in text  # the bank purchase's 20 hours, billed only
    assert "Bäckerei 20 h/month" in text and "Onboarding, fixed price" in text


def test_hostile_and_unicode_text_is_printed_as_written() -> None:
    text = " ".join(read_text(render_invoice_pdf(invoice_view())))

    assert HOSTILE in text
    assert FORMULA in text
    assert "Zoë asked for a € price list export" in text
    assert "<b>" in text and "&amp;" not in text


def test_the_same_view_gives_the_same_bytes_even_in_another_process() -> None:
    first = render_invoice_pdf(invoice_view())
    assert render_invoice_pdf(invoice_view()) == first

    script = (
        "import sys; from bot.billing.pdf import render_invoice_pdf; "
        "from tests.test_invoice_pdf import invoice_view; "
        "sys.stdout.buffer.write(render_invoice_pdf(invoice_view()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    other = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, check=True
    ).stdout
    assert other == first


def test_the_creation_date_is_the_issue_date() -> None:
    reader = PdfReader(io.BytesIO(render_invoice_pdf(invoice_view())))
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"] == "D:20261202000000+00'00'"
    assert reader.metadata["/Title"] == "Invoice INV-2026-0001"


def test_a_draft_says_draft_and_has_no_number() -> None:
    view = invoice_view(number=None, status="draft", issueDate=None, dueDate=None)
    pages = read_text(render_invoice_pdf(view))

    assert DRAFT_HEADING in pages[0]
    assert all(DRAFT_HEADING in page for page in pages)  # the footer of every page says it
    assert "INV-2026-0001" not in " ".join(pages)
    assert "Issue date" not in pages[0]


def test_a_credit_note_says_so_and_names_the_invoice_it_corrects() -> None:
    view = credit_note_view()
    text = " ".join(read_text(render_invoice_pdf(view)))

    assert "Credit note" in text and "CN-2026-0001" in text
    assert "Credit note for INV-2026-0001" in text
    assert "-47.50" in text and "-0:30 → -0:30" in text
    assert f"Total {money(Decimal(view['total']))} EUR" in text
    assert view["total"] == "-56.53"  # -47.50 and 19 % of it, -9.025 rounded half up


@pytest.mark.parametrize(
    ("status", "key", "word"), [("paid", "paidOn", "PAID"), ("void", "voidedOn", "VOID")]
)
def test_a_paid_or_void_invoice_carries_a_stamp_with_its_date(
    status: str, key: str, word: str
) -> None:
    pages = read_text(render_invoice_pdf(invoice_view(status=status, **{key: "2026-12-20"})))

    assert f"{word} 2026-12-20" in pages[0]  # the stamp, on page 1 only
    assert f"{word} 2026-12-20" not in pages[1]
    for number, page in enumerate(pages, start=1):
        assert f"INV-2026-0001 · {word} · 2026-12-20 · page {number}" in page
    assert "PAID" not in " ".join(read_text(render_invoice_pdf(invoice_view())))


def test_money_follows_the_locale_and_the_currency_minor_units() -> None:
    german = " ".join(read_text(render_invoice_pdf(invoice_view(locale="de"))))
    assert "1.700,00" in german and "VAT 19 % of" in german

    yen_line = {"id": "inl_y", "kind": "fixedFee", "description": "Fixed fee", "amount": "15000"}
    yen = invoice_view(currency="JPY", lines=[yen_line], subtotal="15000", taxes=[], total="15000")
    assert "Total 15,000 JPY" in " ".join(read_text(render_invoice_pdf(yen)))


def test_a_view_with_only_the_required_keys_renders() -> None:
    bare = {"kind": "invoice", "status": "draft", "lines": [{"description": "Work", "amount": "1"}]}
    text = " ".join(read_text(render_invoice_pdf(bare)))
    assert "Invoice" in text and DRAFT_HEADING in text and "Work" in text

    empty = " ".join(read_text(render_invoice_pdf({})))
    assert "Invoice" in empty and "Date Ticket Description" in empty and "Total" in empty


def test_a_description_longer_than_a_page_is_split_across_pages_not_lost() -> None:
    essay = " ".join(f"word{n}" for n in range(1500)) + " THE-END"
    view = invoice_view(lines=[time_line(1, minutes=30, description=essay)])
    text = " ".join(read_text(render_invoice_pdf(view)))
    assert "word0 word1" in text and "word1499 THE-END" in text


def test_without_dejavu_it_falls_back_to_the_builtin_helvetica(tmp_path: Path) -> None:
    pdf = render_invoice_pdf(invoice_view(), font_dir=tmp_path)

    assert b"/DejaVuSans" not in pdf and b"/Helvetica" in pdf
    text = " ".join(read_text(pdf))
    assert "Zoë's Bäckerei" in text and "0:07 -> 0:15" in text
    assert b"DejaVuSans" in render_invoice_pdf(invoice_view())


def test_page_one_renders_to_an_a4_png(tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("TINYDESK_REQUIRE_SHARED", "").strip() == "1":
            pytest.fail("pdftoppm (Debian's poppler-utils) is missing; .ci/run installs it")
        pytest.skip("pdftoppm (Debian's poppler-utils) is not installed; CI installs it")
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(render_invoice_pdf(invoice_view()))
    options = "-png -r 60 -f 1 -l 1 -singlefile".split()
    subprocess.run(["pdftoppm", *options, pdf, tmp_path / "page"], check=True, capture_output=True)
    png = (tmp_path / "page.png").read_bytes()

    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert abs(width - 496) <= 1 and abs(height - 702) <= 1  # 210 x 297 mm at 60 dpi
    assert abs(height / width - 2**0.5) < 0.01


def test_the_readme_sample_renders_on_one_page() -> None:
    spec = importlib.util.spec_from_file_location(
        "sample_invoice", ROOT / "scripts" / "sample_invoice.py"
    )
    assert spec is not None and spec.loader is not None
    sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample)
    pages = read_text(render_invoice_pdf(sample.SAMPLE))
    assert len(pages) == 1 and "INV-2026-0001" in pages[0]


def test_the_csv_has_one_row_per_line_and_every_amount() -> None:
    view = invoice_view()
    exported = invoice_lines_csv(view)
    rows = list(csv.DictReader(io.StringIO(exported, newline="")))

    assert exported.startswith(",".join(HEADER) + "\r\n")
    assert exported.count("\r\n") == len(view["lines"]) + 1
    assert len(rows) == len(view["lines"])
    assert [row["amount"] for row in rows] == [line["amount"] for line in view["lines"]]
    first = rows[0]
    assert first["invoice_number"] == "INV-2026-0001" and first["invoice_date"] == "2026-12-02"
    assert first["client"] == CLIENT["name"] and first["currency"] == "EUR"
    assert (first["line"], first["kind"], first["ticket"]) == ("1", "time", "TK-00100")
    assert (first["raw_minutes"], first["billed_minutes"], first["billed_hours"]) == (
        "7",
        "15",
        "0.25",
    )
    assert first["rate"] == "95.00" and first["contract"] == BANK["name"]
    fee = rows[38]
    assert (fee["kind"], fee["ticket"], fee["rate"], fee["date"]) == ("fixedFee", "", "", "")
    assert rows[3]["description"] == HOSTILE


def test_the_csv_defuses_formulas_but_not_negative_amounts() -> None:
    rows = list(csv.DictReader(io.StringIO(invoice_lines_csv(invoice_view()), newline="")))
    assert rows[11]["description"] == "'" + FORMULA

    credit = list(csv.DictReader(io.StringIO(invoice_lines_csv(credit_note_view()), newline="")))
    assert (credit[0]["amount"], credit[0]["billed_minutes"]) == ("-47.50", "-30")
    assert credit[0]["billed_hours"] == "-0.50"

    view = invoice_view()
    line = view["lines"][0]
    line["technician"], line["ticket"]["subject"] = "@admin", "+1 555 0100"
    line["amount"] = "-1+1"  # not a number: text, and defused like text
    row = next(csv.DictReader(io.StringIO(invoice_lines_csv(view), newline="")))
    assert (row["technician"], row["subject"], row["amount"]) == (
        "'@admin",
        "'+1 555 0100",
        "'-1+1",
    )
