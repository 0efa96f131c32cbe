"""Draw README's sample invoice: ``python scripts/sample_invoice.py [PNG]`` (CI renders
``SAMPLE`` in tests/test_invoice_pdf.py but never redraws the PNG).

Renders ``SAMPLE`` with ``bot.billing.pdf`` to a temporary PDF and writes its page 1, through
Debian's ``pdftoppm`` (poppler-utils) at 80 dpi, to ``docs/invoice-sample.png`` by default.
Every figure below adds up as the invoice generator would compute it (time rounded up to the
quarter hour, amounts half up to the cent, VAT on the subtotal).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from bot.billing.pdf import render_invoice_pdf

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "invoice-sample.png"
CENT = Decimal("0.01")


def _time(
    n: int,
    day: str,
    ticket: str,
    subject: str,
    description: str,
    minutes: tuple[int, int],
    rate: str,
) -> dict[str, Any]:
    raw, billed = minutes
    hours = Decimal(billed) / 60
    return {
        "id": f"inl_{n}",
        "kind": "time",
        "date": day,
        "ticket": {"publicId": ticket, "subject": subject},
        "description": description,
        "technician": "alice" if rate == "95.00" else "bob",
        "rawMinutes": raw,
        "billedMinutes": billed,
        "billedHours": str(hours.quantize(CENT)),
        "rate": rate,
        "amount": str((hours * Decimal(rate)).quantize(CENT, ROUND_HALF_UP)),
        "contract": None,
    }


SAMPLE: dict[str, Any] = {
    "id": "inv_sample",
    "kind": "invoice",
    "number": "INV-2026-0001",
    "status": "issued",
    "issueDate": "2026-12-02",
    "dueDate": "2026-12-16",
    "periodStart": "2026-11-01",
    "periodEnd": "2026-11-30",
    "currency": "EUR",
    "locale": "en",
    "seller": {
        "name": "Nordlicht IT-Service GmbH",
        "address": "Hafenstraße 12\n20457 Hamburg\nGermany",
        "taxId": "DE123456789",
        "email": "billing@nordlicht.example",
    },
    "client": {
        "id": "cli_zoe",
        "name": "Zoë's Bäckerei & Café",
        "address": "Marktplatz 3\n10115 Berlin\nGermany",
        "taxId": "DE987654321",
    },
    "creditFor": None,
    "lines": [
        _time(
            1,
            "2026-11-03",
            "TK-00012",
            "Printer in the bakery office is offline",
            "Replaced the toner and reset the print spooler",
            (7, 15),
            "95.00",
        ),
        _time(
            2,
            "2026-11-05",
            "TK-00015",
            "Till cannot reach the card terminal",
            "Updated the terminal firmware and re-paired the till",
            (52, 60),
            "95.00",
        ),
        _time(
            3,
            "2026-11-12",
            "TK-00019",
            "New laptop for Zoë",
            "Installed and enrolled the laptop, copied the profile and set up the €-sign "
            "on the receipt printer's driver",
            (134, 135),
            "95.00",
        ),
        _time(
            4,
            "2026-11-18",
            "TK-00023",
            "VPN drops every evening",
            "Raised the VPN idle timeout and watched a night",
            (38, 45),
            "95.00",
        ),
        _time(
            5,
            "2026-11-27",
            "TK-00031",
            "Backup job reports errors",
            "Cleaned the backup set and ran a full verify",
            (95, 105),
            "120.00",
        ),
        {
            "id": "inl_fee",
            "kind": "fixedFee",
            "date": None,
            "ticket": None,
            "description": "Website hosting, November 2026",
            "technician": None,
            "rawMinutes": None,
            "billedMinutes": None,
            "billedHours": None,
            "rate": None,
            "amount": "49.00",
            "contract": {"id": "con_host", "name": "Hosting, fixed price"},
        },
    ],
    # 23.75 + 95.00 + 213.75 + 71.25 + 210.00 + 49.00; 19 % of it is 125.9225.
    "subtotal": "662.75",
    "taxes": [{"name": "VAT", "rate": "19", "base": "662.75", "amount": "125.92"}],
    "total": "788.67",
    "rounding": (
        "Time is rounded up to 15 minutes per entry in Europe/Berlin; each line's amount is "
        "rounded half up to the cent; taxes are computed on the subtotal and rounded half up."
    ),
    "paidOn": None,
    "voidedOn": None,
    "notes": "Please pay by bank transfer to DE02 1203 0000 0000 2020 51, quoting the number.",
}


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "invoice.pdf"
        pdf.write_bytes(render_invoice_pdf(SAMPLE))
        page = Path(tmp) / "page"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, page],
            check=True,
        )
        out.write_bytes(page.with_suffix(".png").read_bytes())
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
