"""The admin invoices pages (issue 16): the list (by client and status) with a form for a new
draft, and an invoice's page: a draft's lines and totals (issue it, delete it), an issued
one's (download its stored PDF and its lines as CSV, mark it paid, void it, credit it), all
through ``bot.billing.invoices`` as the desk API runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.billing import clients as client_service
from bot.billing import invoices as invoice_service
from bot.billing.csv_export import invoice_lines_csv
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.rules import billing_input
from bot.rules.money import amount_text
from bot.rules.numbers import whole_number
from bot.web.admin.billing import (
    ADMIN,
    Form,
    Spec,
    all_clients,
    client_choices,
    errors_of,
    form_fields,
    form_problem,
    form_values,
    hours,
    not_found_page,
    options,
    problem,
)
from bot.web.admin_auth import admin_only, admin_page, csrf_input, notice_from_query
from bot.web.admin_auth import redirect as see_other
from bot.web.html import Html, cells, fragment, join, path, table, time_element
from bot.web.sessions import AdminSession
from storage.repos.billing import BillingRepo

INVOICES_PER_PAGE = 50
STATUSES = ("draft", "issued", "paid", "void")
DRAFT_FIELDS = ("client", "periodStart", "periodEnd", "notes")
DRAFT_FORM: tuple[Spec, ...] = (
    ("client", "Client", "Whose billable time and contract charges to invoice.", "select"),
    ("periodStart", "Period start", "Empty: the first of the end's month.", "date"),
    (
        "periodEnd",
        "Period end",
        "The last day billed: everything not yet invoiced up to it.",
        "date",
    ),
    ("notes", "Notes", "Printed on the invoice.", "area"),
)


def _amount(value: str | None, currency: str) -> str:
    return "—" if value is None else f"{value} {currency}"


def _label(view: Mapping[str, Any]) -> str:
    return view["number"] or f"Draft {view['id']}"


def _ref(view: Mapping[str, Any]) -> str:
    return view["number"] or view["id"]


# -- the list -----------------------------------------------------------------------------------


async def invoices_page(
    request: web.Request,
    admin_session: AdminSession,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    chosen = request.query.get("client", "")
    state = request.query.get("status", "")
    before = whole_number(request.query.get("before"))
    problems = []
    if state and state not in STATUSES:
        problems.append(f"There is no status {state!r}: use draft, issued, paid or void.")
    rows = []
    more = None
    async with request.app[DB].session() as session:
        repo = BillingRepo(session)
        clients = await all_clients(session)
        by_id = {c.id: c for c in clients}
        client = next((c for c in clients if c.desk_id == chosen), None)
        if chosen and client is None:
            problems.append(f"There is no client {chosen}.")
        if not problems:
            found = await repo.invoices(
                client_id=client.id if client else None,
                status=state or None,
                before_id=before,
                limit=INVOICES_PER_PAGE + 1,
            )
            if len(found) > INVOICES_PER_PAGE:
                more = found[INVOICES_PER_PAGE - 1].id
            for invoice in found[:INVOICES_PER_PAGE]:
                owner = by_id.get(invoice.client_id)
                rows.append(
                    cells(
                        fragment(
                            '<a href="{href}">{label}</a>',
                            href=path("admin", "invoices", invoice.number or invoice.desk_id),
                            label=invoice.number or f"Draft {invoice.desk_id}",
                        ),
                        "credit note" if invoice.kind == "credit_note" else "invoice",
                        owner.name if owner else "—",
                        invoice.status,
                        f"{invoice.period_start} to {invoice.period_end}",
                        str(invoice.issue_date or "—"),
                        _amount(
                            amount_text(invoice.total, invoice.currency),
                            invoice.currency,
                        ),
                    )
                )
    filters = {"client": chosen, "status": state}
    pager = (
        fragment(
            '<a href="{href}" rel="next">Older invoices</a>',
            href=path("admin", "invoices", query={**filters, "before": more}),
        )
        if more is not None
        else Html("")
    )
    draft_values = values or {"client": chosen}
    content = fragment(
        "<h1>Invoices</h1>{notice}"
        '<form class="filters" method="get" action="/admin/invoices">'
        '<div class="field"><label for="filter-client">Client</label>'
        '<select id="filter-client" name="client">{clients}</select></div>'
        '<div class="field"><label for="filter-status">Status</label>'
        '<select id="filter-status" name="status">{statuses}</select></div>'
        '<button type="submit">Show</button></form>{problems}{table}'
        '<nav class="pager" aria-label="More invoices">{pager}</nav>'
        '<section class="card" aria-labelledby="draft-heading"><h2 id="draft-heading">Make a '
        "draft</h2><p>A draft holds the client's billable time and contract charges not yet on "
        "an invoice; it has no number until it is issued.</p>"
        '<form class="stacked" method="post" action="/admin/invoices" novalidate>{csrf}'
        '{general}{fields}<button type="submit">Make draft</button></form></section>',
        notice=notice_from_query(request),
        clients=options(client_choices(clients, empty="All clients"), chosen),
        statuses=options([("", "Any"), *((s, s) for s in STATUSES)], state),
        problems=join(
            fragment('<p class="field-error" role="alert">{p}</p>', p=p) for p in problems
        ),
        table=table(
            ["Invoice", "Kind", "Client", "Status", "Period", "Issued", "Total"],
            rows,
            caption="Invoices, newest first",
            empty="No invoices match." if before is None else "No older invoices.",
        ),
        pager=pager,
        csrf=csrf_input(admin_session),
        general=form_problem(errors or {}),
        fields=form_fields(
            Form(draft_values, errors or {}),
            DRAFT_FORM,
            {"client": client_choices(clients, empty="Choose a client")},
        ),
    )
    if problems and status == 200:
        status = 400
    return admin_page(request, "invoices", content, admin_session=admin_session, status=status)


@admin_only
async def list_invoices(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await invoices_page(request, admin_session)


@admin_only
async def make_draft(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    values = form_values(await read_form(request), DRAFT_FIELDS)
    data = {name: value for name, value in values.items() if value}
    try:
        fields = billing_input.validate_draft(data)
        async with request.app[DB].begin() as session:
            client = await client_service.find_client(session, fields["client"])
            invoice = await invoice_service.make_draft(
                session,
                client,
                fields,
                request.app[SETTINGS].seller,
                ADMIN,
                request.app[CLOCK](),
            )
            desk_id = invoice.desk_id
    except ApiError as exc:
        return await invoices_page(
            request, admin_session, values=values, errors=errors_of(exc), status=exc.status
        )
    return see_other(path("admin", "invoices", desk_id, query={"notice": "invoice-drafted"}))


# -- one invoice --------------------------------------------------------------------------------


def _lines(view: Mapping[str, Any]) -> Html:
    currency = view["currency"]
    rows = []
    for line in view["lines"]:
        ticket = line["ticket"]
        rows.append(
            cells(
                line["date"] or "—",
                fragment(
                    '<a href="{href}">{id}</a> {s}',
                    href=path("admin", "tickets", ticket["publicId"]),
                    id=ticket["publicId"],
                    s=ticket["subject"],
                )
                if ticket
                else "—",
                line["description"],
                line["contract"]["name"] if line["contract"] else "—",
                "—" if line["rawMinutes"] is None else f"{line['rawMinutes']} min",
                hours(line["billedMinutes"]),
                _amount(line["rate"], currency),
                _amount(line["amount"], currency),
            )
        )
    taxes = join(
        fragment(
            "<div><dt>{name} {rate} % of {base}</dt><dd>{amount}</dd></div>",
            name=tax["name"],
            rate=tax["rate"],
            base=_amount(tax["base"], currency),
            amount=_amount(tax["amount"], currency),
        )
        for tax in view["taxes"]
    )
    return fragment(
        '<section class="card" aria-labelledby="lines-heading"><h2 id="lines-heading">Lines'
        "</h2>{table}"
        '<dl class="facts totals"><div><dt>Subtotal</dt><dd>{subtotal}</dd></div>{taxes}'
        '<div><dt>Total</dt><dd class="invoice-total"><strong>{total}</strong></dd></div></dl>'
        '<p class="hint">{rounding}</p></section>',
        table=table(
            ["Date", "Ticket", "Description", "Contract", "Time", "Billed", "Rate", "Amount"],
            rows,
            caption="Line items",
            empty="No lines.",
        ),
        subtotal=_amount(view["subtotal"], currency),
        taxes=taxes,
        total=_amount(view["total"], currency),
        rounding=view["rounding"],
    )


HEADINGS = {
    "issue": "Issue",
    "delete": "Delete",
    "pay": "Payment",
    "void": "Void",
    "credit": "Credit note",
}


def _action(admin_session: AdminSession, ref: str, verb: str, fields: Html, button: str) -> Html:
    return fragment(
        '<h3>{heading}</h3><form class="stacked" method="post" action="{action}" novalidate>'
        '{csrf}{fields}<button type="submit"{danger}>{button}</button></form>',
        heading=HEADINGS[verb],
        action=path("admin", "invoices", ref, verb),
        csrf=csrf_input(admin_session),
        fields=fields,
        danger=Html(' class="danger"') if verb in ("delete", "void") else Html(""),
        button=button,
    )


def _actions(admin_session: AdminSession, view: Mapping[str, Any], values: Form) -> Html:
    """What can be done with the invoice in its status."""
    ref = _ref(view)
    status, credit_note = view["status"], view["kind"] == "creditNote"
    parts = []
    if status == "draft":
        parts.append(
            _action(
                admin_session,
                ref,
                "issue",
                form_fields(
                    values,
                    [
                        (
                            "issueDate",
                            "Issue date",
                            "Empty: today in the client's time zone.",
                            "date",
                        )
                    ],
                ),
                "Issue invoice",
            )
        )
        parts.append(_action(admin_session, ref, "delete", Html(""), "Delete draft"))
    else:
        parts.append(
            fragment(
                '<p class="downloads"><a href="{pdf}" download>Download PDF</a> · '
                '<a href="{csv}" download>Download CSV</a></p>',
                pdf=path("admin", "invoices", ref, "pdf"),
                csv=path("admin", "invoices", ref, "csv"),
            )
        )
    if status == "issued" and not credit_note:
        parts.append(
            _action(
                admin_session,
                ref,
                "pay",
                form_fields(values, [("paidOn", "Paid on", "Empty: today.", "date")]),
                "Mark paid",
            )
        )
        parts.append(
            _action(
                admin_session,
                ref,
                "void",
                form_fields(
                    values,
                    [("reason", "Reason", "Why it is void; its number stays used.", "text")],
                ),
                "Void invoice",
            )
        )
    if status in ("issued", "paid") and not credit_note:
        parts.append(
            _action(
                admin_session,
                ref,
                "credit",
                form_fields(
                    values,
                    [
                        (
                            "creditReason",
                            "Credit note reason",
                            "A credit note takes back every line not yet credited.",
                            "text",
                        )
                    ],
                ),
                "Issue credit note",
            )
        )
    return fragment(
        '<section class="card" aria-labelledby="actions-heading"><h2 id="actions-heading">'
        "Actions</h2>{general}{parts}</section>",
        general=form_problem(values.errors),
        parts=join(parts),
    )


def _facts(view: Mapping[str, Any]) -> list[tuple[str, object]]:
    client = view["client"]
    facts: list[tuple[str, object]] = [
        ("Kind", "Credit note" if view["kind"] == "creditNote" else "Invoice"),
        ("Status", view["status"]),
        (
            "Client",
            fragment(
                '<a href="{href}">{name}</a>',
                href=path("admin", "clients", client["id"]),
                name=client["name"],
            )
            if client.get("id")
            else client.get("name", "—"),
        ),
        ("Period", f"{view['periodStart']} to {view['periodEnd']}"),
        ("Issue date", view["issueDate"] or "not issued"),
        ("Due date", view["dueDate"] or "—"),
    ]
    if view["issuedAt"]:
        facts.append(("Issued at", time_element(view["issuedAt"])))
    if view["paidOn"]:
        facts.append(("Paid on", view["paidOn"]))
    if view["voidedOn"]:
        facts.append(("Voided on", f"{view['voidedOn']}: {view['voidReason'] or 'no reason'}"))
    if view["creditFor"]:
        facts.append(
            (
                "Credits",
                fragment(
                    '<a href="{h}">{n}</a>',
                    h=path("admin", "invoices", view["creditFor"]),
                    n=view["creditFor"],
                ),
            )
        )
    if view["creditNotes"]:
        facts.append(
            (
                "Credit notes",
                join(
                    (
                        fragment('<a href="{h}">{n}</a>', h=path("admin", "invoices", n), n=n)
                        for n in view["creditNotes"]
                    ),
                    ", ",
                ),
            )
        )
    if view["notes"]:
        facts.append(("Notes", view["notes"]))
    return facts


async def invoice_page(
    request: web.Request,
    admin_session: AdminSession,
    ref: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    error: ApiError | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[DB].session() as session:
        try:
            invoice = await invoice_service.find_invoice(session, ref)
        except ApiError:
            return not_found_page(request, admin_session, "invoice", ref, "invoices")
        view = await invoice_service.view_of(session, invoice)
    label = _label(view)
    content = fragment(
        '<h1>{kind} {label}</h1>{notice}{error}<p><a href="/admin/invoices">All invoices</a></p>'
        '<dl class="facts">{facts}</dl>{lines}{actions}',
        kind="Credit note" if view["kind"] == "creditNote" else "Invoice",
        label=view["number"] or f"draft {view['id']}",
        notice=notice_from_query(request),
        error=problem(error) if error is not None else Html(""),
        facts=join(
            fragment("<div><dt>{k}</dt><dd>{v}</dd></div>", k=k, v=v) for k, v in _facts(view)
        ),
        lines=_lines(view),
        actions=_actions(admin_session, view, Form(values or {}, errors or {})),
    )
    return admin_page(request, label, content, admin_session=admin_session, status=status)


@admin_only
async def show_invoice(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await invoice_page(request, admin_session, request.match_info["ref"])


async def _download(request: web.Request, kind: str) -> web.StreamResponse:
    ref = request.match_info["ref"]
    async with request.app[DB].session() as session:
        invoice = await invoice_service.find_invoice(session, ref)
        view = await invoice_service.view_of(session, invoice)
        stored = invoice.pdf
    name = invoice.number or invoice.desk_id
    if kind == "csv":
        return web.Response(
            body=invoice_lines_csv(view).encode("utf-8"),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    # An issued invoice's PDF is the one stored when it was issued, never drawn again.
    pdf = stored if stored is not None else await invoice_service.render_draft(view)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@admin_only
async def download_pdf(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    try:
        return await _download(request, "pdf")
    except ApiError:
        return not_found_page(
            request, admin_session, "invoice", request.match_info["ref"], "invoices"
        )


@admin_only
async def download_csv(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    try:
        return await _download(request, "csv")
    except ApiError:
        return not_found_page(
            request, admin_session, "invoice", request.match_info["ref"], "invoices"
        )


ACTION_FIELDS = ("issueDate", "paidOn", "reason", "creditReason")
NOTICE_OF = {
    "issue": "invoice-issued",
    "pay": "invoice-paid",
    "void": "invoice-voided",
    "credit": "credit-issued",
}


async def _act(
    session: AsyncSession, request: web.Request, verb: str, values: Mapping[str, str]
) -> str:
    """Runs ``verb`` on the invoice; returns the ref of the page to show next."""
    now = request.app[CLOCK]()
    invoice = await invoice_service.find_invoice(session, request.match_info["ref"], lock=True)
    if verb == "issue":
        issue_date, due_date = billing_input.validate_issue(
            {"issueDate": values["issueDate"] or None}
        )
        client = await BillingRepo(session).client(invoice.client_id)
        assert client is not None
        await invoice_service.issue(session, invoice, client, issue_date, due_date, now)
    elif verb == "pay":
        paid_on, _ = billing_input.validate_status_change(
            {"paidOn": values["paidOn"] or None}, "paidOn"
        )
        await invoice_service.mark_paid(session, invoice, paid_on, now)
    elif verb == "void":
        day, reason = billing_input.validate_status_change(
            {"reason": values["reason"] or None}, "voidedOn"
        )
        await invoice_service.void(session, invoice, day, reason, now)
    elif verb == "credit":
        lines, reason, issue_date = billing_input.validate_credit(
            {"reason": values["creditReason"] or None}
        )
        assert reason is not None
        note = await invoice_service.credit(session, invoice, lines, reason, issue_date, ADMIN, now)
        assert note.number is not None
        return note.number
    return invoice.number or invoice.desk_id


def _invoice_action(verb: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @admin_only
    async def act(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
        ref = request.match_info["ref"]
        values = form_values(await read_form(request), ACTION_FIELDS)
        try:
            async with request.app[DB].begin() as session:
                shown = await _act(session, request, verb, values)
        except ApiError as exc:
            if exc.status == 404:
                return not_found_page(request, admin_session, "invoice", ref, "invoices")
            errors = errors_of(exc)
            if verb == "credit" and "reason" in errors:
                errors["creditReason"] = errors.pop("reason")
            return await invoice_page(
                request,
                admin_session,
                ref,
                values=values,
                errors={k: v for k, v in errors.items() if k != "_form"},
                error=exc,
                status=exc.status,
            )
        return see_other(path("admin", "invoices", shown, query={"notice": NOTICE_OF[verb]}))

    act.__name__ = act.__qualname__ = f"{verb}_invoice"
    return act


issue_invoice = _invoice_action("issue")
pay_invoice = _invoice_action("pay")
void_invoice = _invoice_action("void")
credit_invoice = _invoice_action("credit")


@admin_only
async def delete_draft(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    ref = request.match_info["ref"]
    try:
        async with request.app[DB].begin() as session:
            invoice = await invoice_service.find_invoice(session, ref, lock=True)
            await invoice_service.remove_draft(session, invoice)
    except ApiError as exc:
        if exc.status == 404:
            return not_found_page(request, admin_session, "invoice", ref, "invoices")
        return await invoice_page(request, admin_session, ref, error=exc, status=exc.status)
    return see_other(path("admin", "invoices", query={"notice": "draft-deleted", "id": ref}))
