"""An invoice's lines as CSV for accounting tools: one row per line, no totals rows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

HEADER = (
    "invoice_number",
    "invoice_date",
    "client",
    "line",
    "kind",
    "date",
    "ticket",
    "subject",
    "description",
    "contract",
    "technician",
    "raw_minutes",
    "billed_minutes",
    "billed_hours",
    "rate",
    "amount",
    "currency",
)
NUMERIC = frozenset({"line", "raw_minutes", "billed_minutes", "billed_hours", "rate", "amount"})
# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def invoice_lines_csv(view: Mapping[str, Any]) -> str:
    """The view's lines, one CSV row each under ``HEADER``, with ``\\r\\n`` line ends."""
    client = view.get("client") or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for index, line in enumerate(view.get("lines") or [], start=1):
        ticket = line.get("ticket") or {}
        row = {
            "invoice_number": view.get("number"),
            "invoice_date": view.get("issueDate"),
            "client": client.get("name"),
            "line": index,
            "kind": line.get("kind"),
            "date": line.get("date"),
            "ticket": ticket.get("publicId"),
            "subject": ticket.get("subject"),
            "description": line.get("description"),
            "contract": (line.get("contract") or {}).get("name"),
            "technician": line.get("technician"),
            "raw_minutes": line.get("rawMinutes"),
            "billed_minutes": line.get("billedMinutes"),
            "billed_hours": line.get("billedHours"),
            "rate": line.get("rate"),
            "amount": line.get("amount"),
            "currency": view.get("currency"),
        }
        writer.writerow([cell(row[name], numeric=name in NUMERIC) for name in HEADER])
    return out.getvalue()


def cell(value: object, *, numeric: bool = False) -> str:
    """``value`` as a CSV cell a spreadsheet will not run: text that starts like a formula
    gets a leading ``'``. A numeric column's plain number (``-12.50`` on a credit note) is
    left as it is; anything else in it is text like the rest."""
    if value is None:
        return ""
    shown = str(value)
    if numeric and NUMBER.fullmatch(shown):
        return shown
    return "'" + shown if shown.startswith(FORMULA_START) else shown
