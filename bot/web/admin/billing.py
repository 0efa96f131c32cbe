"""The admin billing pages' shared pieces (issue 16): money and hours as the pages show them,
forms drawn from field lists and turned into the desk API's bodies, the client choices; and
the time section of a ticket's page (``bot.web.admin.tickets``): its entries, totals and a
form to log time as the signed-in admin. The pages themselves: ``bot.web.admin.clients``,
``contracts`` and ``invoices``.

Forms are checked by the desk API's validators (``bot.rules.billing_input``) and run by its
services (``bot.billing``), never by rules of their own; a refusal (``ApiError``) is shown on
the page with its status, never as a 500.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.billing import clients as client_service
from bot.billing import time_entries
from bot.errors import ApiError
from bot.rules import billing_input
from bot.rules.money import amount_text, hours_text
from bot.rules.numbers import whole_number
from bot.tickets import audit
from bot.web.admin_auth import admin_page, csrf_input
from bot.web.html import (
    Html,
    cells,
    fragment,
    join,
    path,
    table,
    time_element,
)
from bot.web.sessions import AdminSession
from storage.models import Client, Contract, Invoice, Ticket, TimeEntry
from storage.repos.billing import BillingRepo

# The acting user of the admin pages, as the admin API and templates name it.
ADMIN = "admin"
TIME_FIELDS = ("minutes", "description", "billable", "startedAt", "contract")

# -- shared pieces ------------------------------------------------------------------------------


def money(minor: int | None, currency: str) -> str:
    return "—" if minor is None else f"{amount_text(minor, currency)} {currency}"


def hours(minutes: int | None) -> str:
    return "—" if minutes is None else f"{hours_text(minutes)} h"


def problem(exc: ApiError) -> Html:
    """A refusal as the page shows it: the error, then its hint."""
    return fragment('<p class="field-error" role="alert">{t}</p>', t=said(exc))


def said(exc: ApiError) -> str:
    return f"{exc.error}. {exc.hint}" if exc.hint else exc.error


def errors_of(exc: ApiError) -> dict[str, str]:
    """A refusal's problems by field, and the whole of it (error and hint) as ``_form``, shown
    above the form: a field's message alone may not say why (``outside the contract``)."""
    errors = dict(exc.extra.get("fields", {}))
    errors["_form"] = said(exc)
    return errors


def form_problem(errors: Mapping[str, str]) -> Html:
    if "_form" not in errors:
        return Html("")
    return fragment('<p class="field-error" role="alert">{e}</p>', e=errors["_form"])


def options(choices: Sequence[tuple[str, str]], selected: str) -> Html:
    return join(
        fragment(
            '<option value="{v}"{sel}>{t}</option>',
            v=value,
            t=title,
            sel=Html(" selected") if selected == value else Html(""),
        )
        for value, title in choices
    )


@dataclasses.dataclass(frozen=True)
class Form:
    """A form's values (as typed) and problems by field, to draw its fields."""

    values: Mapping[str, str]
    errors: Mapping[str, str]
    prefix: str = ""

    def _id(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def field(self, name: str, label: str, hint: str, control: Html) -> Html:
        key = self._id(name)
        error = Html("")
        if name in self.errors:
            error = fragment(
                '<p class="field-error" id="{key}-error">{m}</p>', key=key, m=self.errors[name]
            )
        return fragment(
            '<div class="field"><label for="{key}">{label}</label>'
            '<p class="hint" id="{key}-hint">{hint}</p>{error}{control}</div>',
            key=key,
            label=label,
            hint=hint,
            error=error,
            control=control,
        )

    def _attributes(self, name: str) -> Html:
        key = self._id(name)
        described = f"{key}-hint {key}-error" if name in self.errors else f"{key}-hint"
        invalid = Html(' aria-invalid="true"') if name in self.errors else Html("")
        return fragment(' aria-describedby="{d}"{i}', d=described, i=invalid)

    def text(self, name: str, kind: str = "text", extra: str = "") -> Html:
        return fragment(
            '<input id="{key}" name="{name}" type="{kind}" value="{value}"{attrs}{extra}>',
            key=self._id(name),
            name=name,
            kind=kind,
            value=self.values.get(name, ""),
            attrs=self._attributes(name),
            extra=Html(extra),
        )

    def area(self, name: str, rows: int = 3) -> Html:
        return fragment(
            '<textarea id="{key}" name="{name}" rows="{rows}"{attrs}>{value}</textarea>',
            key=self._id(name),
            name=name,
            rows=rows,
            attrs=self._attributes(name),
            value=self.values.get(name, ""),
        )

    def select(self, name: str, choices: Sequence[tuple[str, str]]) -> Html:
        return fragment(
            '<select id="{key}" name="{name}"{attrs}>{options}</select>',
            key=self._id(name),
            name=name,
            attrs=self._attributes(name),
            options=options(choices, self.values.get(name, "")),
        )

    def checkbox(self, name: str, label: str) -> Html:
        return fragment(
            '<div class="field checkbox"><input id="{key}" name="{name}" type="checkbox" '
            'value="on"{checked}> <label for="{key}">{label}</label>{error}</div>',
            key=self._id(name),
            name=name,
            checked=Html(" checked") if self.values.get(name) == "on" else Html(""),
            label=label,
            error=fragment('<p class="field-error">{m}</p>', m=self.errors[name])
            if name in self.errors
            else Html(""),
        )


Spec = tuple[str, str, str, str]  # name, label, hint, control: text, date, numeric, area, select


def form_fields(
    form: Form, specs: Sequence[Spec], choices: Mapping[str, Sequence[tuple[str, str]]] = {}
) -> Html:
    """The fields ``specs`` name, in order; a ``select`` takes its options from ``choices``."""
    controls = {
        "text": lambda n: form.text(n),
        "email": lambda n: form.text(n, "email"),
        "date": lambda n: form.text(n, "date"),
        "numeric": lambda n: form.text(n, "text", ' inputmode="numeric"'),
        "area": lambda n: form.area(n),
        "select": lambda n: form.select(n, choices[n]),
    }
    return join(
        form.checkbox(name, label)
        if control == "checkbox"
        else form.field(name, label, hint, controls[control](name))
        for name, label, hint, control in specs
    )


def form_values(form: Mapping[str, Any], names: Sequence[str]) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip() for name in names}


def number_or_text(text: str) -> object:
    """A whole number typed in a form as the JSON number the validators want; anything
    else as typed, for them to refuse in their words."""
    number = whole_number(text, minimum=0)
    return number if number is not None else text


def listed(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def taxes_from_text(text: str) -> list[dict[str, str]]:
    """``VAT 19, Reduced 7`` (name, then percent) as the API's taxes."""
    taxes = []
    for item in listed(text):
        name, _, rate = item.rpartition(" ")
        taxes.append({"name": name.strip() or item, "rate": rate.rstrip("%").strip()})
    return taxes


def taxes_text(taxes: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{t['name']} {t['rate']}" for t in taxes)


async def all_clients(session: AsyncSession) -> list[Client]:
    repo = BillingRepo(session)
    found: list[Client] = []
    before: int | None = None
    while True:
        rows = list(await repo.clients(before_id=before, limit=200))
        found.extend(rows)
        if len(rows) < 200:
            return sorted(found, key=lambda c: c.name.lower())
        before = rows[-1].id


def client_choices(clients: Sequence[Client], *, empty: str | None) -> list[tuple[str, str]]:
    first = [("", empty)] if empty is not None else []
    return first + [(c.desk_id, f"{c.name} ({c.currency})") for c in clients]


def not_found_page(
    request: web.Request, admin_session: AdminSession, what: str, ref: str, back: str
) -> web.Response:
    content = fragment(
        '<h1>No {what} {ref}</h1><p><a href="/admin/{back}">Back</a></p>',
        what=what,
        ref=ref,
        back=back,
    )
    return admin_page(request, "not found", content, admin_session=admin_session, status=404)


# -- time on a ticket (drawn by bot.web.admin.tickets) -----------------------------------------


TIME_FORM: tuple[Spec, ...] = (
    ("minutes", "Minutes", "Whole minutes, 1 to 1440.", "numeric"),
    ("description", "Description", "What was done.", "text"),
    ("billable", "Billable", "", "checkbox"),
    (
        "startedAt",
        "Started at",
        "ISO 8601 with offset, e.g. 2026-12-02T09:30:00Z; empty: now.",
        "text",
    ),
    ("contract", "Contract", "One of the client's contracts, or none.", "select"),
)


@dataclasses.dataclass(frozen=True)
class TicketTime:
    client: Client | None
    contracts: Sequence[Contract]
    entries: Sequence[TimeEntry]
    invoices: Mapping[int, Invoice]
    totals: Mapping[str, Any]


async def ticket_time(session: AsyncSession, ticket: Ticket) -> TicketTime:
    repo = BillingRepo(session)
    client = await client_service.client_for_ticket(session, ticket)
    entries = list(await repo.entries_of_ticket(ticket.id))
    contracts = list(await repo.contracts_of(client.id)) if client is not None else []
    invoices: dict[int, Invoice] = {}
    for entry in entries:
        if entry.invoice_id is not None and entry.invoice_id not in invoices:
            invoice = await repo.invoice(entry.invoice_id)
            if invoice is not None:
                invoices[entry.invoice_id] = invoice
    return TicketTime(client, contracts, entries, invoices, time_entries.totals(entries))


def time_section(
    admin_session: AdminSession,
    public_id: str,
    time: TicketTime,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Html:
    """The ticket's time entries, their totals (billable and not) and a form to log time as
    the signed-in admin."""
    contracts = {c.id: c for c in time.contracts}

    def invoice_cell(entry: TimeEntry) -> object:
        invoice = time.invoices.get(entry.invoice_id) if entry.invoice_id else None
        if invoice is None:
            return "—"
        return fragment(
            '<a href="{href}">{label}</a>',
            href=path("admin", "invoices", invoice.number or invoice.desk_id),
            label=invoice.number or f"draft {invoice.desk_id}",
        )

    rows = [
        cells(
            time_element(e.started_at),
            e.technician,
            f"{e.minutes} min",
            "yes" if e.billable else "no",
            e.description,
            contracts[e.contract_id].name if e.contract_id in contracts else "—",
            invoice_cell(e),
        )
        for e in time.entries
    ]
    totals = time.totals
    form = Form(values or {"billable": "on"}, errors or {}, prefix="time-")
    contract_choices = [("", "None")] + [(c.desk_id, c.name) for c in time.contracts]
    client = time.client
    return fragment(
        '<section class="card" aria-labelledby="time-heading"><h2 id="time-heading">Time</h2>'
        "<p>Bills to: {client}.</p>"
        '<p class="time-totals">{minutes} min in all ({hours}): <strong>{billable} min '
        "billable</strong>, {non} min not billable.</p>{table}"
        '<h3 id="log-time-heading">Log time</h3>'
        '<form class="stacked" method="post" action="{action}" novalidate '
        'aria-labelledby="log-time-heading">{csrf}{general}{fields}'
        '<button type="submit">Log time</button></form></section>',
        client=fragment(
            '<a href="{href}">{name}</a>',
            href=path("admin", "clients", client.desk_id),
            name=client.name,
        )
        if client is not None
        else "no client (by product, email domain or staff's choice)",
        minutes=totals["minutes"],
        hours=hours(totals["minutes"]),
        billable=totals["billableMinutes"],
        non=totals["nonBillableMinutes"],
        table=table(
            ["Started", "Technician", "Minutes", "Billable", "Description", "Contract", "Invoice"],
            rows,
            caption="Time entries, oldest first",
            empty="No time logged yet.",
        ),
        action=path("admin", "tickets", public_id, "time"),
        csrf=csrf_input(admin_session),
        general=form_problem(form.errors),
        fields=form_fields(form, TIME_FORM, {"contract": contract_choices}),
    )


def time_data(values: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "minutes": number_or_text(values["minutes"]) if values["minutes"] else None,
        "description": values["description"] or None,
        "billable": values.get("billable") == "on",
    }
    if values["startedAt"]:
        data["startedAt"] = values["startedAt"]
    if values["contract"]:
        data["contract"] = values["contract"]
    return data


async def log_time(
    session: AsyncSession, ticket: Ticket, values: Mapping[str, str], now: dt.datetime
) -> TimeEntry:
    """Logs the form's time on ``ticket``; the technician is the signed-in admin."""
    fields = billing_input.validate_time_entry(time_data(values))
    return await time_entries.log_time(session, ADMIN, ticket, fields, now, actor=audit.ADMIN)
