"""An invoice view (the JSON the desk API returns) as an A4 PDF, the same bytes for the same view.

The PDF of an issued invoice is stored when it is issued; rendering is deterministic
(reportlab's invariant mode, the creation date taken from the invoice's issue date) so that
rendering the view again gives back exactly the stored file. Fonts are Debian's DejaVu Sans
(fonts-dejavu-core), never downloaded; without them, reportlab's built-in Helvetica.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal, get_currency_precision
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN

TITLES = {"invoice": "Invoice", "creditNote": "Credit note"}
DRAFT_HEADING = "DRAFT — not a valid invoice"
CREDIT_FOR = "Credit note for {number}"
COLUMNS = ("Date", "Ticket", "Description", "Contract", "Time", "Rate", "Amount")
# Every column but the description has a fixed width; the description takes what is left
# of the 174 mm between the margins, and wraps.
FIXED_WIDTHS = {
    "Date": 18 * mm,
    "Ticket": 18 * mm,
    "Contract": 24 * mm,
    "Time": 20 * mm,
    "Rate": 17 * mm,
    "Amount": 21 * mm,
}
RIGHT_ALIGNED = {"Time", "Rate", "Amount"}
STAMPS = {
    "paid": ("PAID", "paidOn", colors.HexColor("#1b7f3b")),
    "void": ("VOID", "voidedOn", colors.HexColor("#b3261e")),
}

INK = colors.HexColor("#1f2328")
MUTED = colors.HexColor("#656d76")
RULE = colors.HexColor("#d0d7de")
SHADE = colors.HexColor("#f3f4f6")
DRAFT_RED = colors.HexColor("#b3261e")

# C0 controls but tab and line feed, and DEL: Paragraph's parser cannot take them.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    arrow: str  # between raw and billed time; Helvetica (WinAnsi) has no "→"


BUILTIN_FONTS = Fonts("Helvetica", "Helvetica-Bold", "->")


@functools.cache
def fonts(font_dir: Path = FONT_DIR) -> Fonts:
    """DejaVu Sans and DejaVu Sans Bold from ``font_dir``, registered with reportlab once per
    process; reportlab's built-in Helvetica when they are not there (or not readable)."""
    regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
    if not (regular.is_file() and bold.is_file()):
        return BUILTIN_FONTS
    try:
        faces = TTFont("DejaVuSans", str(regular)), TTFont("DejaVuSans-Bold", str(bold))
    except TTFError:
        return BUILTIN_FONTS
    for face in faces:
        pdfmetrics.registerFont(face)
    return Fonts("DejaVuSans", "DejaVuSans-Bold", "→")


def render_invoice_pdf(view: Mapping[str, Any], *, font_dir: Path = FONT_DIR) -> bytes:
    """The invoice or credit note ``view`` as PDF bytes: the same view gives the same bytes."""
    face = fonts(font_dir)
    numbers = Numbers(str(view.get("currency") or ""), str(view.get("locale") or "en"))
    styles = Styles(face)
    story: list[Flowable] = [
        _heading(view, styles),
        Spacer(1, 8 * mm),
        _parties(view, styles),
        Spacer(1, 8 * mm),
        _lines_table(view.get("lines") or [], styles, numbers, face),
        Spacer(1, 4 * mm),
        _totals_table(view, styles, numbers),
        Spacer(1, 6 * mm),
    ]
    if view.get("rounding"):
        story.append(Paragraph(text(view["rounding"]), styles.small))
    if view.get("notes"):
        story += [Spacer(1, 4 * mm), Paragraph("Notes", styles.label)]
        story.append(Paragraph(text(view["notes"]), styles.body))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,  # room for the footer
        title=_document_title(view),
        author=str(_mapping(view.get("seller")).get("name") or ""),
        creator="TinyDesk",
        lang=str(view.get("locale") or "en").replace("_", "-"),
        invariant=1,
    )
    decorate = _page_decorator(view, face)
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


class Numbers:
    """Money, rates and durations as the invoice prints them (babel, in the view's locale)."""

    def __init__(self, currency: str, locale: str) -> None:
        self.currency = currency
        self.locale = _locale(locale)
        digits = get_currency_precision(currency) if currency else 2
        self.quantum = Decimal(1).scaleb(-digits)
        self.pattern = "#,##0" + ("." + "0" * digits if digits else "")

    def money(self, value: object) -> str:
        """``"-1234.5"`` -> ``"-1,234.50"`` (en) or ``"-1.234,50"`` (de); blank for none."""
        if value is None or value == "":
            return ""
        amount = Decimal(str(value)).quantize(self.quantum, rounding=ROUND_HALF_UP)
        if amount == 0:
            amount = abs(amount)  # never "-0.00"
        return format_decimal(amount, format=self.pattern, locale=self.locale)

    def with_code(self, value: object) -> str:
        shown = self.money(value)
        return f"{shown} {self.currency}".strip() if shown else ""

    def percent(self, value: object) -> str:
        """A tax rate as given (``"19"``, ``"7.5"``), in the locale's digits."""
        return format_decimal(Decimal(str(value)), locale=self.locale)


def hours_minutes(minutes: int) -> str:
    """``135`` -> ``"2:15"``; ``-15`` -> ``"-0:15"``."""
    sign = "-" if minutes < 0 else ""
    whole, part = divmod(abs(minutes), 60)
    return f"{sign}{whole}:{part:02d}"


def text(value: object) -> str:
    """Any text (customer text can hold ``<`` and ``&``) as Paragraph markup that shows it as
    it is: escaped, control characters made spaces, line breaks kept."""
    if value is None:
        return ""
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br/>".join(escape(CONTROL.sub(" ", line)) for line in lines)


class Styles:
    """The paragraph styles of one rendering, in the fonts it has."""

    def __init__(self, face: Fonts) -> None:
        self.body = ParagraphStyle(
            "body", fontName=face.regular, fontSize=9, leading=12, textColor=INK
        )
        self.small = ParagraphStyle(
            "small", parent=self.body, fontSize=7.5, leading=10, textColor=MUTED
        )
        self.label = ParagraphStyle("label", parent=self.body, fontName=face.bold)
        self.title = ParagraphStyle(
            "title", parent=self.body, fontName=face.bold, fontSize=22, leading=26
        )
        self.number = ParagraphStyle("number", parent=self.label, fontSize=12, leading=16)
        self.draft = ParagraphStyle(
            "draft", parent=self.number, fontSize=14, leading=18, textColor=DRAFT_RED
        )
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=7.5, leading=9.5)
        self.cell_right = ParagraphStyle("cell_right", parent=self.cell, alignment=TA_RIGHT)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=face.bold)
        self.head_right = ParagraphStyle("head_right", parent=self.head, alignment=TA_RIGHT)
        self.right = ParagraphStyle("right", parent=self.body, alignment=TA_RIGHT)
        self.right_bold = ParagraphStyle("right_bold", parent=self.right, fontName=face.bold)


def _heading(view: Mapping[str, Any], styles: Styles) -> Table:
    """Title and number (or the draft warning) on the left, the dates on the right."""
    left: list[Flowable] = [Paragraph(text(_title(view)), styles.title)]
    if _is_draft(view):
        left.append(Paragraph(text(DRAFT_HEADING), styles.draft))
    else:
        left.append(Paragraph(text(view["number"]), styles.number))
    if view.get("creditFor"):
        left.append(Paragraph(text(CREDIT_FOR.format(number=view["creditFor"])), styles.body))

    period = " \N{EN DASH} ".join(
        str(d) for d in (view.get("periodStart"), view.get("periodEnd")) if d
    )
    facts = [
        ("Issue date", view.get("issueDate")),
        ("Due date", view.get("dueDate")),
        ("Period", period),
    ]
    right = [
        [Paragraph(label, styles.label), Paragraph(text(value), styles.body)]
        for label, value in facts
        if value
    ]
    dates = Table(right or [[""]], colWidths=[22 * mm, 42 * mm], hAlign="RIGHT")
    dates.setStyle(_tight(0, 1))
    table = Table([[left, dates]], colWidths=[WIDTH - 66 * mm, 66 * mm])
    table.setStyle(
        [*_tight(0, 0), ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]
    )
    return table


def _parties(view: Mapping[str, Any], styles: Styles) -> Table:
    """Seller ("From") and client ("Bill to") side by side."""
    seller, client = _mapping(view.get("seller")), _mapping(view.get("client"))

    def block(heading: str, party: Mapping[str, Any], extra: tuple[str, ...]) -> list[Flowable]:
        cells: list[Flowable] = [Paragraph(heading, styles.small)]
        if party.get("name"):
            cells.append(Paragraph(text(party["name"]), styles.label))
        if party.get("address"):
            cells.append(Paragraph(text(party["address"]), styles.body))
        if party.get("taxId"):
            cells.append(Paragraph(text(f"Tax ID: {party['taxId']}"), styles.body))
        if "email" in extra and party.get("email"):
            cells.append(Paragraph(text(party["email"]), styles.body))
        return cells

    table = Table(
        [[block("From", seller, ("email",)), block("Bill to", client, ())]],
        colWidths=[WIDTH / 2, WIDTH / 2],
    )
    table.setStyle(
        [
            *_tight(0, 0),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("RIGHTPADDING", (0, 0), (0, 0), 6 * mm),
        ]
    )
    return table


def _lines_table(
    lines: list[Mapping[str, Any]], styles: Styles, numbers: Numbers, face: Fonts
) -> Table:
    """One row per line; the header row repeats on every page and long descriptions wrap
    (a row taller than what is left of a page is split within the row)."""
    header = [
        Paragraph(name, styles.head_right if name in RIGHT_ALIGNED else styles.head)
        for name in COLUMNS
    ]
    rows: list[list[Any]] = [header]
    for line in lines:
        ticket = _mapping(line.get("ticket"))
        description = text(line.get("description"))
        if ticket.get("subject"):
            description += f'<br/><font color="#656d76">{text(ticket["subject"])}</font>'
        cells = {
            "Date": text(line.get("date")),
            "Ticket": text(ticket.get("publicId")),
            "Description": description,
            "Contract": text(_mapping(line.get("contract")).get("name")),
            "Time": text(_time(line, face.arrow)),
            "Rate": text(numbers.money(line.get("rate"))),
            "Amount": text(numbers.money(line.get("amount"))),
        }
        rows.append(
            [
                Paragraph(cells[name], styles.cell_right if name in RIGHT_ALIGNED else styles.cell)
                for name in COLUMNS
            ]
        )
    widths = [FIXED_WIDTHS.get(name, WIDTH - sum(FIXED_WIDTHS.values())) for name in COLUMNS]
    table = Table(rows, colWidths=widths, repeatRows=1, splitInRow=24)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
            ]
        )
    )
    return table


def _totals_table(view: Mapping[str, Any], styles: Styles, numbers: Numbers) -> Table:
    """Subtotal, one row per tax ("VAT 19 % of 1,234.00"), total; right-aligned."""
    rows = [
        [
            Paragraph("Subtotal", styles.right),
            Paragraph(text(numbers.with_code(view.get("subtotal"))), styles.right),
        ]
    ]
    for tax in view.get("taxes") or []:
        name, rate = tax.get("name") or "Tax", numbers.percent(tax.get("rate") or 0)
        label = f"{name} {rate} % of {numbers.money(tax.get('base'))}"
        rows.append(
            [
                Paragraph(text(label), styles.right),
                Paragraph(text(numbers.with_code(tax.get("amount"))), styles.right),
            ]
        )
    rows.append(
        [
            Paragraph("Total", styles.right_bold),
            Paragraph(text(numbers.with_code(view.get("total"))), styles.right_bold),
        ]
    )
    table = Table(rows, colWidths=[70 * mm, 38 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK),
                ("TOPPADDING", (0, -1), (-1, -1), 5),
            ]
        )
    )
    return table


def _page_decorator(view: Mapping[str, Any], face: Fonts) -> Callable[[Canvas, Any], None]:
    """What the pages get besides the flow: the fixed creation date (reportlab's invariant mode
    alone would say 2000-01-01); on every page a footer with the number (or the draft
    warning) and the paid or void state; on the first, that state as a stamp."""
    created = _parse_date(view.get("issueDate")) or _parse_date(view.get("periodEnd"))
    seller = CONTROL.sub(" ", str(_mapping(view.get("seller")).get("name") or ""))
    reference = DRAFT_HEADING if _is_draft(view) else str(view["number"])
    stamp = STAMPS.get(str(view.get("status")))
    if stamp is not None:
        word, date_key, _ = stamp
        reference = " · ".join(filter(None, (reference, word, str(view.get(date_key) or ""))))

    def decorate(canvas: Canvas, document: Any) -> None:
        if created is not None:
            stamped = f"D:{created:%Y%m%d}000000+00'00'"
            canvas.setDateFormatter(lambda *_: stamped)
        canvas.saveState()
        canvas.setFont(face.regular, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN - 2 * mm, seller)
        canvas.drawRightString(
            A4[0] - MARGIN, MARGIN - 2 * mm, f"{reference} · page {document.page}"
        )
        if stamp is not None and document.page == 1:
            word, date_key, colour = stamp
            _draw_stamp(canvas, face, word, str(view.get(date_key) or ""), colour)
        canvas.restoreState()

    return decorate


def _draw_stamp(canvas: Canvas, face: Fonts, word: str, when: str, colour: colors.Color) -> None:
    """A rubber stamp, tilted, in the free space at the top of the page."""
    width, height = 44 * mm, 17 * mm if when else 12 * mm
    canvas.saveState()
    canvas.translate(A4[0] / 2 - 4 * mm, A4[1] - MARGIN - 20 * mm)
    canvas.rotate(8)
    canvas.setStrokeColor(colour)
    canvas.setFillColor(colour)
    canvas.setLineWidth(1.6)
    canvas.roundRect(-width / 2, 0, width, height, 2 * mm, stroke=1, fill=0)
    canvas.setFont(face.bold, 18)
    canvas.drawCentredString(0, height - 9 * mm, word)
    if when:
        canvas.setFont(face.regular, 8)
        canvas.drawCentredString(0, 3 * mm, when)
    canvas.restoreState()


def _is_draft(view: Mapping[str, Any]) -> bool:
    """A draft has no number; a view without one is printed as a draft, whatever its status."""
    return view.get("status") == "draft" or not view.get("number")


def _title(view: Mapping[str, Any]) -> str:
    return TITLES.get(str(view.get("kind")), TITLES["invoice"])


def _document_title(view: Mapping[str, Any]) -> str:
    return f"{_title(view)} (draft)" if _is_draft(view) else f"{_title(view)} {view['number']}"


def _time(line: Mapping[str, Any], arrow: str) -> str:
    """Raw and billed time as h:mm ("0:07 → 0:15"), both printed even when they agree; the one
    that is known when the other is not (a bank purchase has billed hours only)."""
    raw, billed = line.get("rawMinutes"), line.get("billedMinutes")
    if billed is None and line.get("billedHours") not in (None, ""):
        billed = int(Decimal(str(line["billedHours"])) * 60)
    return f" {arrow} ".join(hours_minutes(int(m)) for m in (raw, billed) if m is not None)


def _tight(left: int, top: int) -> list[tuple[Any, ...]]:
    return [
        ("LEFTPADDING", (0, 0), (-1, -1), left),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), top),
        ("BOTTOMPADDING", (0, 0), (-1, -1), top),
    ]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _parse_date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")
