"""The admin contracts pages (issue 16): a client's contracts (or all) with a form for a new
one, and a contract's page with its terms and, for a time-based one, its hour-bank ledger
(``bot.billing.contracts.ledger`` as ``bot.views.billing.ledger_view`` gives it: every entry
with the running balance, each period's sums) and its 80 %/95 % warnings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from bot.appkeys import CLOCK, DB
from bot.billing import clients as client_service
from bot.billing import contracts as contract_service
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.rules import billing_input, ids
from bot.rules.billing_periods import Period
from bot.rules.invoicing import ContractKind
from bot.rules.rounding import RoundingMode
from bot.views import billing as views
from bot.web.admin.billing import (
    Form,
    Spec,
    all_clients,
    client_choices,
    errors_of,
    form_fields,
    form_problem,
    form_values,
    hours,
    money,
    not_found_page,
    number_or_text,
    options,
    problem,
)
from bot.web.admin_auth import admin_only, admin_page, csrf_input, notice_from_query
from bot.web.admin_auth import redirect as see_other
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
from storage.models import Client, Contract, TimeEntry
from storage.repos.billing import BillingRepo

CONTRACT_FIELDS = (
    "client",
    "name",
    "kind",
    "period",
    "startsOn",
    "endsOn",
    "timeZone",
    "increment",
    "mode",
    "hoursPerPeriod",
    "hourlyRate",
    "overageRate",
    "rollover",
    "rolloverCapHours",
    "fee",
    "scope",
)
KIND_WORDS = {"time_based": "Time-based (a bank of hours)", "fixed_price": "Fixed price"}
PERIOD_WORDS = {"month": "Month", "quarter": "Quarter", "year": "Year", "one_off": "One-off"}
LEDGER_WORDS = {
    "rollover": "Rollover",
    "purchase": "Purchase",
    "draw": "Draw",
    "overage": "Overage",
    "expiry": "Expiry",
}
EVENT_WORDS = {"bank.warning80": "80 % used", "bank.warning95": "95 % used"}
assert set(KIND_WORDS) == {k.value for k in ContractKind}
assert set(PERIOD_WORDS) == {p.value for p in Period}


# -- contracts ----------------------------------------------------------------------------------


def contract_data(values: Mapping[str, str]) -> dict[str, Any]:
    """The contract form as the desk API's body; empty fields left out (their defaults)."""
    data: dict[str, Any] = {"rollover": values.get("rollover") == "on"}
    for name in (
        "client",
        "name",
        "kind",
        "period",
        "startsOn",
        "endsOn",
        "timeZone",
        "hoursPerPeriod",
        "hourlyRate",
        "overageRate",
        "rolloverCapHours",
        "fee",
        "scope",
    ):
        if values.get(name):
            data[name] = values[name]
    data["rounding"] = {
        "increment": number_or_text(values.get("increment") or "1"),
        "mode": values.get("mode") or "up",
    }
    return data


CONTRACT_FORM: tuple[Spec, ...] = (
    ("client", "Client", "Whose contract it is.", "select"),
    ("name", "Name", "e.g. Support 20 h a month.", "text"),
    ("kind", "Kind", "A bank of hours per period, or a flat fee.", "select"),
    ("period", "Period", "How often the bank fills or the fee is charged.", "select"),
    ("startsOn", "Starts on", "The first day.", "date"),
    ("endsOn", "Ends on", "The last day; empty: open-ended.", "date"),
    ("timeZone", "Time zone", "Its periods and rounding; empty: the client's.", "text"),
    ("increment", "Rounding increment", "Minutes each entry is rounded to; 1: none.", "numeric"),
    ("mode", "Rounding mode", "Applied to each entry at invoice time.", "select"),
    ("hoursPerPeriod", "Hours per period", "Time-based: the bank, e.g. 20 or 7.5.", "text"),
    ("hourlyRate", "Hourly rate", "Time-based: the bank's price per hour.", "text"),
    ("overageRate", "Overage rate", "Time-based: per hour beyond the bank (0: free).", "text"),
    ("rollover", "Unused hours roll over into the next period", "", "checkbox"),
    (
        "rolloverCapHours",
        "Rollover cap (hours)",
        "The most a period carries on; empty: no cap.",
        "text",
    ),
    ("fee", "Fee", "Fixed price: the flat fee per period (or once).", "text"),
    ("scope", "Scope", "Fixed price: what the fee covers.", "area"),
)


def contract_form(admin_session: AdminSession, form: Form, clients: Sequence[Client]) -> Html:
    choices = {
        "client": client_choices(clients, empty="Choose a client"),
        "kind": list(KIND_WORDS.items()),
        "period": list(PERIOD_WORDS.items()),
        "mode": [(m.value, m.value) for m in RoundingMode],
    }
    return fragment(
        '<section class="card" aria-labelledby="contract-form-heading">'
        '<h2 id="contract-form-heading">Add a contract</h2>'
        '<form class="stacked" method="post" action="/admin/contracts" novalidate>{csrf}'
        "{general}{fields}"
        '<button type="submit">Add contract</button></form></section>',
        csrf=csrf_input(admin_session),
        general=form_problem(form.errors),
        fields=form_fields(form, CONTRACT_FORM, choices),
    )


def contract_terms(contract: Contract, client: Client) -> list[tuple[str, object]]:
    view = views.contract_view(contract, client)
    currency = client.currency
    rows: list[tuple[str, object]] = [
        (
            "Client",
            fragment(
                '<a href="{href}">{name}</a>',
                href=path("admin", "clients", client.desk_id),
                name=client.name,
            ),
        ),
        ("Kind", KIND_WORDS.get(contract.kind, contract.kind)),
        ("Period", PERIOD_WORDS.get(contract.period, contract.period)),
        ("Runs", f"{view['startsOn']} to {view['endsOn'] or 'open-ended'}"),
        ("Time zone", contract.time_zone),
        ("Rounding", f"to {contract.rounding_increment} min, {contract.rounding_mode}"),
    ]
    if contract.kind == ContractKind.TIME_BASED:
        rows += [
            ("Bank per period", hours(contract.minutes_per_period)),
            ("Hourly rate", money(contract.hourly_rate, currency)),
            ("Overage rate", money(contract.overage_rate, currency)),
            (
                "Rollover",
                (
                    "yes, "
                    + (
                        f"at most {hours(contract.rollover_cap)}"
                        if contract.rollover_cap is not None
                        else "no cap"
                    )
                )
                if contract.rollover
                else "no (unused hours expire)",
            ),
        ]
    else:
        rows += [("Fee", money(contract.fee, currency)), ("Scope", contract.scope or "—")]
    return rows


def ledger_tables(view: Mapping[str, Any], entries: Mapping[str, TimeEntry]) -> Html:
    """The hour bank as ``bot.views.billing.ledger_view`` gives it: every entry with the
    period's balance after it, then each period's sums, then the warnings."""

    def drawn_by(ref: str | None) -> Html:
        entry = entries.get(ref) if ref else None
        if entry is None:
            return Html("—")
        public_id = ids.public_id(entry.ticket_id)
        return fragment(
            '<a href="{href}">{id}</a> {d}',
            href=path("admin", "tickets", public_id),
            id=public_id,
            d=entry.description,
        )

    rows = [
        cells(
            e["date"],
            LEDGER_WORDS.get(e["kind"], e["kind"]),
            e["periodStart"],
            ("+" if e["changeMinutes"] > 0 else "") + hours(e["changeMinutes"]),
            hours(e["minutes"]),
            hours(e["balanceMinutes"]),
            drawn_by(e["timeEntry"]),
        )
        for e in view["entries"]
    ]
    periods = [
        cells(
            f"{p['start']} to {p['end']}",
            hours(p["rolloverMinutes"]),
            hours(p["purchaseMinutes"]),
            hours(p["drawMinutes"]),
            hours(p["overageMinutes"]),
            hours(p["expiryMinutes"]),
            hours(p["balanceMinutes"]),
            "closed" if p["closed"] else "open",
        )
        for p in view["periods"]
    ]
    warnings = [
        cells(
            time_element(w["at"]),
            EVENT_WORDS.get(w["kind"], w["kind"]),
            w["periodStart"],
            f"{hours(w.get('usedMinutes'))} of {hours(w.get('availableMinutes'))}",
        )
        for w in view["events"]
    ]
    return fragment(
        '<section class="card" aria-labelledby="ledger-heading"><h2 id="ledger-heading">Hour '
        "bank ledger</h2><p>Balance on {through}: <strong>{balance}</strong>.</p>{entries}"
        "{periods}</section>"
        '<section class="card" aria-labelledby="warnings-heading"><h2 id="warnings-heading">'
        "Bank warnings</h2>{warnings}</section>",
        through=view["through"],
        balance=hours(view["balanceMinutes"]),
        entries=table(
            ["Date", "Entry", "Period", "Change", "Hours", "Balance", "Time entry"],
            rows,
            caption="Ledger entries, in order, with the period's balance after each",
            empty="No entries yet.",
        ),
        periods=table(
            ["Period", "Rolled in", "Purchased", "Drawn", "Overage", "Expired", "Balance", ""],
            periods,
            caption="Each period's sums",
            empty="No periods yet.",
        ),
        warnings=table(
            ["At", "Warning", "Period", "Used"],
            warnings,
            caption="Recorded once per period and threshold",
            empty="None.",
        ),
    )


async def contracts_page(
    request: web.Request,
    admin_session: AdminSession,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    chosen = request.query.get("client", "")
    error = Html("")
    async with request.app[DB].session() as session:
        repo = BillingRepo(session)
        clients = await all_clients(session)
        by_id = {c.id: c for c in clients}
        client = next((c for c in clients if c.desk_id == chosen), None)
        if chosen and client is None:
            error = fragment('<p class="field-error" role="alert">No client {c}.</p>', c=chosen)
            status = 404
            contracts: list[Contract] = []
        elif client is not None:
            contracts = list(await repo.contracts_of(client.id))
        else:
            contracts = [c for each in clients for c in await repo.contracts_of(each.id)]
    rows = [
        cells(
            fragment(
                '<a href="{href}">{name}</a>',
                href=path("admin", "contracts", c.desk_id),
                name=c.name,
            ),
            by_id[c.client_id].name,
            KIND_WORDS.get(c.kind, c.kind),
            PERIOD_WORDS.get(c.period, c.period),
            f"{c.starts_on} to {c.ends_on or 'open-ended'}",
            hours(c.minutes_per_period)
            if c.kind == ContractKind.TIME_BASED
            else money(c.fee, by_id[c.client_id].currency),
        )
        for c in contracts
    ]
    defaults = {
        "client": chosen,
        "kind": "time_based",
        "period": "month",
        "increment": "1",
        "mode": "up",
    }
    content = fragment(
        "<h1>Contracts</h1>{notice}"
        '<form class="filters" method="get" action="/admin/contracts">'
        '<div class="field"><label for="filter-client">Client</label>'
        '<select id="filter-client" name="client">{choices}</select></div>'
        '<button type="submit">Show</button></form>{error}{table}{form}',
        notice=notice_from_query(request),
        choices=options(client_choices(clients, empty="All clients"), chosen),
        error=error,
        table=table(
            ["Contract", "Client", "Kind", "Period", "Runs", "Bank or fee"],
            rows,
            caption="Contracts",
            empty="No contracts yet.",
        ),
        form=contract_form(admin_session, Form(values or defaults, errors or {}), clients)
        if clients
        else Html('<p>Add a <a href="/admin/clients">client</a> first.</p>'),
    )
    return admin_page(request, "contracts", content, admin_session=admin_session, status=status)


@admin_only
async def list_contracts(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await contracts_page(request, admin_session)


@admin_only
async def add_contract(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    values = form_values(await read_form(request), CONTRACT_FIELDS)
    data = contract_data(values)
    try:
        ref = billing_input.validate_client_ref(data)
        async with request.app[DB].begin() as session:
            client = await client_service.find_client(session, ref)
            fields = billing_input.validate_contract(
                data, currency=client.currency, default_zone=client.time_zone
            )
            contract = await contract_service.create_contract(
                session, client, fields, request.app[CLOCK]()
            )
            desk_id, name = contract.desk_id, contract.name
    except ApiError as exc:
        errors = errors_of(exc)
        if "rounding" in errors:
            errors["increment"] = errors.pop("rounding")
        return await contracts_page(
            request, admin_session, values=values, errors=errors, status=exc.status
        )
    return see_other(
        path("admin", "contracts", desk_id, query={"notice": "contract-added", "slug": name})
    )


@admin_only
async def show_contract(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """A contract's terms, and a time-based one's ledger through ``through`` (default: today
    in its time zone) with its bank warnings."""
    ref = request.match_info["id"]
    status = 200
    error = Html("")
    async with request.app[DB].session() as session:
        try:
            contract = await contract_service.find_contract(session, ref)
        except ApiError:
            return not_found_page(request, admin_session, "contract", ref, "contracts")
        repo = BillingRepo(session)
        client = await repo.client(contract.client_id)
        assert client is not None
        bank = Html(
            "<p>A fixed-price contract has no hour bank: time logged on it is recorded, not "
            "billed.</p>"
        )
        through_text = request.query.get("through", "")
        if contract.kind == ContractKind.TIME_BASED:
            try:
                through = billing_input.validate_through(request.query)
            except ApiError as exc:
                through, error, status = None, problem(exc), exc.status
            through = through or contract_service.today(contract, request.app[CLOCK]())
            entries = await contract_service.ledger(session, contract, through)
            used = {e.id: e for e in await repo.entries_of_contract(contract.id)}
            events = await repo.events_of(contract.id)
            view = views.ledger_view(contract, entries, through, used, events)
            bank = ledger_tables(view, {e.desk_id: e for e in used.values()})
            through_text = through_text if error else through.isoformat()
        terms = contract_terms(contract, client)
        name, desk_id = contract.name, contract.desk_id
    content = fragment(
        '<h1>Contract {name}</h1>{notice}<p><code>{id}</code> · <a href="{all}">Contracts of '
        "{client}</a></p>"
        '<dl class="facts">{facts}</dl>'
        '<form class="filters" method="get" action="{action}">'
        '<div class="field"><label for="through">Ledger through</label>'
        '<input id="through" name="through" type="date" value="{through}"></div>'
        '<button type="submit">Show</button></form>{error}{bank}',
        name=name,
        notice=notice_from_query(request),
        id=desk_id,
        all=path("admin", "contracts", query={"client": client.desk_id}),
        client=client.name,
        facts=join(fragment("<div><dt>{k}</dt><dd>{v}</dd></div>", k=k, v=v) for k, v in terms),
        action=path("admin", "contracts", desk_id),
        through=through_text,
        error=error,
        bank=bank,
    )
    return admin_page(
        request, f"contract {name}", content, admin_session=admin_session, status=status
    )
