"""Billing through the desk API (issue 16, seed 003), on both backends, with every figure
written out by hand: hour banks and their ledgers, fixed prices, rounding in local time, taxes
and credit notes, where a rate comes from, numbers, the stored PDF and the CSV, bad input that
changes nothing, who may bill, and which client a ticket bills to.

The app's clock is the test's (``Clock``); every JSON response is checked against the OpenAPI
document, as the ``client`` fixture does (``tests.openapi_recorder``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pypdf
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from storage.models import (
    BillingRate,
    Client,
    ContractCharge,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    TimeEntry,
)
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import add_product, bearer, make_key
from tests.openapi_recorder import ResponseRecorder

UTC = dt.UTC
TECH = "agent@support.com"
CLIENTS = "/api/v1/desk/clients"
CONTRACTS = "/api/v1/desk/contracts"
INVOICES = "/api/v1/desk/invoices"
RATES = "/api/v1/desk/rates"
TICKETS = "/api/v1/desk/tickets"


class Clock:
    """The app's clock: a fixed instant the test moves."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


class Desk:
    """A test client with an unscoped desk key: each call checks its status and returns the
    JSON body."""

    def __init__(self, http, headers: dict[str, str]) -> None:
        self.http = http
        self.headers = headers

    async def call(
        self, method: str, path: str, status: int, json: Any = None, headers=None
    ) -> Any:
        resp = await self.http.request(method, path, json=json, headers=headers or self.headers)
        assert resp.status == status, f"{method} {path}: {resp.status} {await resp.text()}"
        if resp.content_type == "application/json":
            return await resp.json()
        return await resp.read()

    async def get(self, path: str, status: int = 200, **kw) -> Any:
        return await self.call("GET", path, status, **kw)

    async def post(self, path: str, json: Any, status: int = 201, **kw) -> Any:
        return await self.call("POST", path, status, json=json, **kw)

    async def patch(self, path: str, json: Any, status: int = 200, **kw) -> Any:
        return await self.call("PATCH", path, status, json=json, **kw)

    async def put(self, path: str, json: Any, status: int = 200, **kw) -> Any:
        return await self.call("PUT", path, status, json=json, **kw)

    async def delete(self, path: str, status: int = 200, **kw) -> Any:
        return await self.call("DELETE", path, status, **kw)

    # -- the things most tests make --

    async def new_client(self, name: str, domain: str | None = None, **fields) -> dict:
        """A client in EUR and Europe/Berlin whose requesters write from ``domain``."""
        body = {"name": name, "currency": "EUR", "timeZone": "Europe/Berlin", **fields}
        if domain is not None:
            body["domains"] = [domain]
        return await self.post(CLIENTS, body)

    async def bank(self, client: dict, **fields) -> dict:
        """20 h a month from January 2026: 80.00 an hour, overage 120.00, rollover capped at
        10 h, each entry rounded up to 15 minutes, in Europe/Berlin."""
        body = {
            "client": client["id"],
            "name": f"{client['name']} 20h",
            "kind": "time_based",
            "period": "month",
            "startsOn": "2026-01-01",
            "timeZone": "Europe/Berlin",
            "hoursPerPeriod": 20,
            "hourlyRate": "80.00",
            "overageRate": "120.00",
            "rollover": True,
            "rolloverCapHours": 10,
            "rounding": {"increment": 15, "mode": "up"},
            **fields,
        }
        return await self.post(CONTRACTS, body)

    async def ticket(self, email: str, subject: str = "VPN down", **fields) -> dict:
        body = {"subject": subject, "body": "It stopped working.", "email": email, **fields}
        return await self.post(TICKETS, body)

    async def log(self, ticket: dict, minutes: int, when: str | None = None, **fields) -> dict:
        body: dict[str, Any] = {"minutes": minutes, "description": "work", **fields}
        if when is not None:
            body["startedAt"] = when
        return await self.post(f"{TICKETS}/{ticket['id']}/time", body)

    async def draft(self, client: dict, period_end: str, status: int = 201, **fields) -> dict:
        body = {"client": client["id"], "periodEnd": period_end, **fields}
        return await self.post(INVOICES, body, status=status)

    async def issue(self, invoice: dict, status: int = 200, **fields) -> dict:
        return await self.post(f"{INVOICES}/{invoice['id']}/issue", fields, status=status)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 4, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
async def app_client(db, aiohttp_client, clock):
    """The whole app on the test's database and clock; every JSON response it sends must
    match the OpenAPI document (as the ``client`` fixture checks)."""
    recorder = ResponseRecorder()
    app = create_app(
        Settings(
            admin_token=ADMIN_TOKEN, public_url="https://desk.example.test", run_workers=False
        ),
        db=db,
    )
    app[CLOCK] = clock
    app.on_response_prepare.append(recorder.on_prepare)
    yield await aiohttp_client(app)
    recorder.assert_valid()


@pytest.fixture
async def desk(app_client) -> Desk:
    return Desk(app_client, bearer(await make_key(app_client, name=TECH)))


def figures(invoice: dict) -> tuple[str, list[tuple[str, str, str]], str]:
    """(subtotal, [(tax name, rate, amount)], total) of an invoice's view."""
    taxes = [(t["name"], t["rate"], t["amount"]) for t in invoice["taxes"]]
    return invoice["subtotal"], taxes, invoice["total"]


def line_rows(invoice: dict) -> list[tuple]:
    """Each line as (kind, date, raw minutes, billed minutes, rate, rateSource, amount)."""
    return [
        (
            line["kind"],
            line["date"],
            line["rawMinutes"],
            line["billedMinutes"],
            line["rate"],
            line["rateSource"],
            line["amount"],
        )
        for line in invoice["lines"]
    ]


async def row_counts(db) -> dict[str, int]:
    counted = (TimeEntry, Invoice, InvoiceLine, BillingRate, InvoiceSequence, ContractCharge)
    async with db.session() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in counted
        }


# -- hour banks -----------------------------------------------------------------------------------


async def test_bank_of_20_hours_with_rollover_and_overage_in_march(desk):
    client = await desk.new_client("Acme", "acme.test", taxes=[{"name": "VAT", "rate": "19"}])
    bank = await desk.bank(client)
    ticket = await desk.ticket("bob@acme.test")
    # January: 445 min -> 450 billed (7.5 h); 750 min left, of which 600 (the cap) roll over.
    jan = await desk.log(ticket, 445, "2026-01-10T10:00:00Z", contract=bank["id"])
    # February: 600 rolled + 1200 bought = 1800 = 1440 + (350 -> 360).
    feb1 = await desk.log(ticket, 1440, "2026-02-03T10:00:00Z", contract=bank["id"])
    feb2 = await desk.log(ticket, 350, "2026-02-04T10:00:00Z", contract=bank["id"])
    # March: nothing rolled (February ended at 0); 1380 = 1200 from the bank + 180 overage.
    mar = await desk.log(ticket, 1380, "2026-03-05T10:00:00Z", contract=bank["id"])

    ledger = await desk.get(f"{CONTRACTS}/{bank['id']}/ledger?through=2026-03-31")
    assert ledger["through"] == "2026-03-31"
    assert ledger["balanceMinutes"] == 0
    rows = [
        (
            e["kind"],
            e["date"],
            e["changeMinutes"],
            e["minutes"],
            e["balanceMinutes"],
            e["timeEntry"],
        )
        for e in ledger["entries"]
    ]
    assert rows == [
        ("purchase", "2026-01-01", 1200, 1200, 1200, None),
        ("draw", "2026-01-10", -450, 450, 750, jan["id"]),
        ("expiry", "2026-01-31", -750, 750, 0, None),
        ("rollover", "2026-02-01", 600, 600, 600, None),
        ("purchase", "2026-02-01", 1200, 1200, 1800, None),
        ("draw", "2026-02-03", -1440, 1440, 360, feb1["id"]),
        ("draw", "2026-02-04", -360, 360, 0, feb2["id"]),
        ("purchase", "2026-03-01", 1200, 1200, 1200, None),
        ("draw", "2026-03-05", -1200, 1200, 0, mar["id"]),
        ("overage", "2026-03-05", 0, 180, 0, mar["id"]),
    ]
    periods = [
        (
            p["start"],
            p["end"],
            p["closed"],
            p["rolloverMinutes"],
            p["purchaseMinutes"],
            p["drawMinutes"],
            p["overageMinutes"],
            p["expiryMinutes"],
            p["balanceMinutes"],
        )
        for p in ledger["periods"]
    ]
    assert periods == [
        ("2026-01-01", "2026-01-31", True, 0, 1200, 450, 0, 750, 0),
        ("2026-02-01", "2026-02-28", True, 600, 1200, 1800, 0, 0, 0),
        ("2026-03-01", "2026-03-31", False, 0, 1200, 1200, 180, 0, 0),
    ]
    # Halfway through February the bank held 1800 - 1440 = 360.
    mid = await desk.get(f"{CONTRACTS}/{bank['id']}/ledger?through=2026-02-03")
    assert mid["balanceMinutes"] == 360

    invoice = await desk.draft(client, "2026-03-31")
    assert invoice["status"] == "draft" and invoice["number"] is None
    assert line_rows(invoice) == [
        ("bankPurchase", "2026-01-01", None, 1200, "80.00", "contract", "1600.00"),
        ("time", "2026-01-10", 445, 450, None, "bank", "0.00"),
        ("bankPurchase", "2026-02-01", None, 1200, "80.00", "contract", "1600.00"),
        ("time", "2026-02-03", 1440, 1440, None, "bank", "0.00"),
        ("time", "2026-02-04", 350, 360, None, "bank", "0.00"),
        ("bankPurchase", "2026-03-01", None, 1200, "80.00", "contract", "1600.00"),
        ("time", "2026-03-05", 1380, 1380, None, "bank", "0.00"),
        ("overage", "2026-03-31", None, 180, "120.00", "contract", "360.00"),
    ]
    assert [line["billedHours"] for line in invoice["lines"]] == [
        "20.00",
        "7.50",
        "20.00",
        "24.00",
        "6.00",
        "20.00",
        "23.00",
        "3.00",
    ]
    assert {line["contract"]["id"] for line in invoice["lines"]} == {bank["id"]}
    # 3 x 1600.00 + 360.00 = 5160.00; 19 % of it 980.40.
    assert figures(invoice) == ("5160.00", [("VAT", "19", "980.40")], "6140.40")
    assert invoice["taxTotal"] == "980.40"

    # Everything up to March 31 is on that draft: a second one would charge it twice.
    refused = await desk.draft(client, "2026-03-31", status=409)
    assert refused["error"] == "Nothing to invoice" and refused["hint"]

    issued = await desk.issue(invoice, issueDate="2026-04-02")
    assert issued["number"] == "INV-2026-0001" and issued["total"] == "6140.40"
    listed = await desk.get(f"{TICKETS}/{ticket['id']}/time")
    assert [(e["billedMinutes"], e["invoice"]["number"]) for e in listed["entries"]] == [
        (450, "INV-2026-0001"),
        (1440, "INV-2026-0001"),
        (360, "INV-2026-0001"),
        (1380, "INV-2026-0001"),
    ]
    # March's overage is billed: more time in March would change that invoice.
    late = await desk.post(
        f"{TICKETS}/{ticket['id']}/time",
        {
            "minutes": 30,
            "description": "late",
            "startedAt": "2026-03-20T10:00:00Z",
            "contract": bank["id"],
        },
        status=409,
    )
    assert late["error"] == "That bank period is invoiced"
    assert "INV-2026-0001" in late["hint"] and late["fields"] == {
        "startedAt": "in an invoiced period"
    }
    # April is open: time there is taken.
    await desk.log(ticket, 30, "2026-04-01T10:00:00Z", contract=bank["id"])


async def test_fixed_price_bills_its_fee_and_lists_its_time_at_zero(desk):
    client = await desk.new_client("Fixco", "fixco.test")
    contract = await desk.post(
        CONTRACTS,
        {
            "client": client["id"],
            "name": "Fixco support",
            "kind": "fixed_price",
            "period": "month",
            "startsOn": "2026-01-01",
            "fee": "500.00",
            "scope": "Email support",
        },
    )
    ticket = await desk.ticket("ops@fixco.test")
    await desk.log(ticket, 120, "2026-01-15T10:00:00Z", contract=contract["id"])
    await desk.log(ticket, 45, "2026-02-02T10:00:00Z", contract=contract["id"])
    no_bank = await desk.get(f"{CONTRACTS}/{contract['id']}/ledger", status=409)
    assert no_bank["error"] == "A fixed-price contract has no hour bank"

    invoice = await desk.draft(client, "2026-02-28")
    assert line_rows(invoice) == [
        ("fixedFee", "2026-01-01", None, None, None, None, "500.00"),
        ("fixedFee", "2026-02-01", None, None, None, None, "500.00"),
        ("time", "2026-01-15", 120, 120, None, "fixed", "0.00"),
        ("time", "2026-02-02", 45, 45, None, "fixed", "0.00"),
    ]
    descriptions = [line["description"] for line in invoice["lines"]]
    assert descriptions == [
        "Fixed fee, 2026-01-01 to 2026-01-31: Email support",
        "Fixed fee, 2026-02-01 to 2026-02-28: Email support",
        "work (within the fixed price)",
        "work (within the fixed price)",
    ]
    assert figures(invoice) == ("1000.00", [], "1000.00")


async def test_seven_minutes_before_midnight_utc_bill_15_in_february_in_berlin(desk):
    client = await desk.new_client("Nachtschicht", "nacht.test")
    bank = await desk.bank(client)
    ticket = await desk.ticket("it@nacht.test")
    # 23:30 UTC on January 31 is 00:30 on February 1 in Berlin (CET, UTC+1).
    entry = await desk.log(ticket, 7, "2026-01-31T23:30:00Z", contract=bank["id"])

    ledger = await desk.get(f"{CONTRACTS}/{bank['id']}/ledger?through=2026-02-28")
    draws = [(e["date"], e["minutes"]) for e in ledger["entries"] if e["kind"] == "draw"]
    assert draws == [("2026-02-01", 15)]

    january = await desk.draft(client, "2026-01-31")
    assert line_rows(january) == [
        ("bankPurchase", "2026-01-01", None, 1200, "80.00", "contract", "1600.00"),
    ]
    february = await desk.draft(client, "2026-02-28")
    assert line_rows(february) == [
        ("bankPurchase", "2026-02-01", None, 1200, "80.00", "contract", "1600.00"),
        ("time", "2026-02-01", 7, 15, None, "bank", "0.00"),
    ]
    assert february["lines"][1]["billedHours"] == "0.25"
    assert "rounded up to 15 minutes per entry, dates in Europe/Berlin" in february["rounding"]
    await desk.issue(february, issueDate="2026-03-01")
    [listed] = (await desk.get(f"{TICKETS}/{ticket['id']}/time"))["entries"]
    assert listed["id"] == entry["id"]
    assert (listed["minutes"], listed["billedMinutes"]) == (7, 15)


# -- taxes and credit notes -----------------------------------------------------------------------


async def test_two_tax_rates_and_credit_notes_of_some_lines_then_the_rest(desk):
    client = await desk.new_client(
        "Zweisteuer",
        "zwei.test",
        hourlyRate="100.00",
        taxes=[{"name": "VAT", "rate": "19"}, {"name": "Reduced VAT", "rate": "7"}],
    )
    ticket = await desk.ticket("a@zwei.test")
    await desk.log(ticket, 60, "2026-03-02T09:00:00Z")  # 100.00
    await desk.log(ticket, 90, "2026-03-03T09:00:00Z")  # 150.00
    await desk.log(ticket, 7, "2026-03-04T09:00:00Z")  # 7/60 x 100 = 11.666… -> 11.67
    draft = await desk.draft(client, "2026-03-31")
    assert [(line["rateSource"], line["amount"]) for line in draft["lines"]] == [
        ("client", "100.00"),
        ("client", "150.00"),
        ("client", "11.67"),
    ]
    # 261.67 x 19 % = 49.7173 -> 49.72; x 7 % = 18.3169 -> 18.32.
    assert figures(draft) == (
        "261.67",
        [("VAT", "19", "49.72"), ("Reduced VAT", "7", "18.32")],
        "329.71",
    )
    invoice = await desk.issue(draft, issueDate="2026-04-01")
    assert invoice["number"] == "INV-2026-0001"
    first, second, third = (line["id"] for line in invoice["lines"])

    note = await desk.post(
        f"{INVOICES}/INV-2026-0001/credit", {"lines": [first], "reason": "Goodwill"}
    )
    assert note["number"] == "CN-2026-0001" and note["kind"] == "creditNote"
    assert note["creditFor"] == "INV-2026-0001" and note["status"] == "issued"
    assert [(line["kind"], line["amount"], line["credits"]) for line in note["lines"]] == [
        ("credit", "-100.00", first)
    ]
    assert figures(note) == (
        "-100.00",
        [("VAT", "19", "-19.00"), ("Reduced VAT", "7", "-7.00")],
        "-126.00",
    )
    # A credited invoice is not voided: that would free its lines to be billed again while
    # the credit note still gives money back for one of them.
    refused = await desk.post(f"{INVOICES}/INV-2026-0001/void", {}, status=409)
    assert refused["error"] == "A credited invoice cannot be voided"
    assert "CN-2026-0001" in refused["hint"]
    twice = await desk.post(
        f"{INVOICES}/INV-2026-0001/credit", {"lines": [first], "reason": "Again"}, status=409
    )
    assert twice["error"] == "A line is credited already" and twice["hint"]

    rest = await desk.post(f"{INVOICES}/INV-2026-0001/credit", {"reason": "Cancelled"})
    assert rest["number"] == "CN-2026-0002"
    assert [line["credits"] for line in rest["lines"]] == [second, third]
    # -161.67 x 19 % = -30.7173 -> -30.72; x 7 % = -11.3169 -> -11.32.
    assert figures(rest) == (
        "-161.67",
        [("VAT", "19", "-30.72"), ("Reduced VAT", "7", "-11.32")],
        "-203.71",
    )
    nothing = await desk.post(
        f"{INVOICES}/INV-2026-0001/credit", {"reason": "Once more"}, status=409
    )
    assert nothing["error"] == "Nothing left to credit"
    shown = await desk.get(f"{INVOICES}/INV-2026-0001")
    assert shown["creditNotes"] == ["CN-2026-0001", "CN-2026-0002"]
    assert shown["total"] == "329.71"  # the invoice itself never changes
    # Credit notes are in their own series: the next invoice is still INV-2026-0002.
    await desk.log(ticket, 60, "2026-04-01T09:00:00Z")
    nxt = await desk.issue(await desk.draft(client, "2026-04-30"), issueDate="2026-04-02")
    assert nxt["number"] == "INV-2026-0002"


async def test_credit_notes_of_every_line_add_up_to_the_invoice_to_the_cent(desk):
    client = await desk.new_client(
        "Cents", "cents.test", hourlyRate="30.00", taxes=[{"name": "VAT", "rate": "19"}]
    )
    ticket = await desk.ticket("a@cents.test")
    await desk.log(ticket, 1, "2026-03-02T09:00:00Z")  # 0.50
    await desk.log(ticket, 1, "2026-03-03T09:00:00Z")  # 0.50
    invoice = await desk.issue(await desk.draft(client, "2026-03-31"), issueDate="2026-04-01")
    # 19 % of 1.00 = 0.19.
    assert figures(invoice) == ("1.00", [("VAT", "19", "0.19")], "1.19")
    first = invoice["lines"][0]["id"]
    # 19 % of -0.50 = -0.095 -> -0.10 on its own ...
    one = await desk.post(
        f"{INVOICES}/{invoice['number']}/credit", {"lines": [first], "reason": "a"}
    )
    assert figures(one) == ("-0.50", [("VAT", "19", "-0.10")], "-0.60")
    # ... so the note that takes back the rest takes back what is left of the tax, -0.09:
    # together the notes give back 1.19, never 1.20.
    rest = await desk.post(f"{INVOICES}/{invoice['number']}/credit", {"reason": "b"})
    assert figures(rest) == ("-0.50", [("VAT", "19", "-0.09")], "-0.59")
    assert "left" in rest["rounding"]


async def test_default_dates_are_the_clients_local_dates(desk, clock):
    client = await desk.new_client("Silvester", "silvester.test", hourlyRate="60.00")
    ticket = await desk.ticket("a@silvester.test")
    await desk.log(ticket, 60, "2026-12-10T09:00:00Z")
    await desk.log(ticket, 30, "2026-12-11T09:00:00Z")
    # 23:30 UTC on December 31 is 00:30 on January 1 in Berlin.
    clock.at = dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    invoice = await desk.issue(await desk.draft(client, "2026-12-31"))
    assert (invoice["number"], invoice["issueDate"]) == ("INV-2027-0001", "2027-01-01")
    note = await desk.post(
        f"{INVOICES}/INV-2027-0001/credit",
        {"lines": [invoice["lines"][1]["id"]], "reason": "x"},
    )
    assert (note["number"], note["issueDate"]) == ("CN-2027-0001", "2027-01-01")
    paid = await desk.post(f"{INVOICES}/INV-2027-0001/pay", {}, status=200)
    assert paid["paidOn"] == "2027-01-01"
    await desk.log(ticket, 15, "2026-12-12T09:00:00Z")
    other = await desk.issue(await desk.draft(client, "2026-12-31"))
    voided = await desk.post(f"{INVOICES}/{other['number']}/void", {}, status=200)
    assert voided["voidedOn"] == "2027-01-01"


# -- rates ----------------------------------------------------------------------------------------


async def test_time_on_no_contract_takes_the_client_then_technician_then_default_rate(
    desk, app_client
):
    other = Desk(app_client, bearer(await make_key(app_client, name="kim@support.com")))
    client = await desk.new_client("Ratefirm", "rate.test")
    ticket = await desk.ticket("x@rate.test")
    await desk.log(ticket, 60, "2026-03-02T09:00:00Z")
    await other.log(ticket, 30, "2026-03-03T09:00:00Z")

    missing = await desk.draft(client, "2026-03-31", status=409)
    assert missing["error"] == "Some time has no rate"
    assert TECH in missing["hint"] and "kim@support.com" in missing["hint"]

    rates = await desk.put(RATES, {"technician": TECH, "currency": "EUR", "rate": "90.00"})
    assert rates["rates"]
    missing = await desk.draft(client, "2026-03-31", status=409)
    assert "kim@support.com" in missing["hint"] and TECH not in missing["hint"]

    await desk.put(RATES, {"currency": "EUR", "rate": "60.00"})  # the default
    draft = await desk.draft(client, "2026-03-31")
    assert [
        (line["technician"], line["rate"], line["rateSource"], line["amount"])
        for line in draft["lines"]
    ] == [
        (TECH, "90.00", "technician", "90.00"),
        ("kim@support.com", "60.00", "default", "30.00"),
    ]
    assert draft["subtotal"] == "120.00"
    await desk.delete(f"{INVOICES}/{draft['id']}")

    await desk.patch(f"{CLIENTS}/{client['id']}", {"hourlyRate": "120.00"})
    draft = await desk.draft(client, "2026-03-31")
    assert [(line["rate"], line["rateSource"], line["amount"]) for line in draft["lines"]] == [
        ("120.00", "client", "120.00"),
        ("120.00", "client", "60.00"),
    ]
    invoice = await desk.issue(draft, issueDate="2026-04-01")
    listed = await desk.get(f"{TICKETS}/{ticket['id']}/time")
    assert [(e["rate"], e["rateSource"]) for e in listed["entries"]] == [
        ("120.00", "client"),
        ("120.00", "client"),
    ]
    assert invoice["total"] == "180.00"


# -- numbers, states and locks --------------------------------------------------------------------


async def test_numbers_follow_the_invoice_date_and_void_keeps_its_number(desk, clock):
    client = await desk.new_client("Numbered", "num.test", hourlyRate="100.00")
    ticket = await desk.ticket("n@num.test")
    dec = await desk.log(ticket, 60, "2025-12-10T09:00:00Z")
    december = await desk.draft(client, "2025-12-31")
    assert (await desk.issue(december, issueDate="2025-12-31"))["number"] == "INV-2025-0001"

    jan = await desk.log(ticket, 60, "2026-01-10T09:00:00Z")
    first = await desk.issue(await desk.draft(client, "2026-01-31"), issueDate="2026-02-01")
    assert first["number"] == "INV-2026-0001"
    assert (first["issueDate"], first["dueDate"]) == ("2026-02-01", "2026-02-15")
    feb = await desk.log(ticket, 30, "2026-02-10T09:00:00Z")
    second = await desk.issue(await desk.draft(client, "2026-02-28"), issueDate="2026-03-01")
    assert second["number"] == "INV-2026-0002"

    # An issued invoice's entries are locked, with a hint to credit it.
    locked = await desk.patch(
        f"{TICKETS}/{ticket['id']}/time/{jan['id']}", {"minutes": 61}, status=409
    )
    assert locked["error"] == "The time entry is invoiced"
    assert "INV-2026-0001" in locked["hint"] and "credit" in locked["hint"]
    locked = await desk.delete(f"{TICKETS}/{ticket['id']}/time/{dec['id']}", status=409)
    assert "INV-2025-0001" in locked["hint"]
    gone = await desk.delete(f"{INVOICES}/INV-2026-0001", status=409)
    assert gone["error"] == "Issued invoices are never deleted" and gone["hint"]

    # Nothing about an invoice is dated before it was issued.
    for path, body in (
        ("pay", {"paidOn": "2026-01-31"}),
        ("void", {"voidedOn": "2026-01-31"}),
        ("credit", {"reason": "x", "issueDate": "2026-01-31"}),
    ):
        early = await desk.post(f"{INVOICES}/INV-2026-0001/{path}", body, status=400)
        [field] = early["fields"]
        assert early["error"] == f"{field} is before the invoice's issue date"
        assert "2026-02-01" in early["hint"]
    paid = await desk.post(f"{INVOICES}/INV-2026-0001/pay", {"paidOn": "2026-02-20"}, status=200)
    assert (paid["status"], paid["paidOn"]) == ("paid", "2026-02-20")
    voided = await desk.post(
        f"{INVOICES}/INV-2026-0002/void", {"reason": "Wrong client"}, status=200
    )
    assert (voided["status"], voided["number"], voided["voidedOn"]) == (
        "void",
        "INV-2026-0002",
        "2026-04-02",
    )
    assert voided["voidReason"] == "Wrong client"
    twice = await desk.post(f"{INVOICES}/INV-2026-0002/void", {}, status=409)
    assert twice["error"] == "A void invoice cannot be voided"

    # The void invoice's entry is free again, and the next number is 0003, not 0002.
    [freed] = [
        e
        for e in (await desk.get(f"{TICKETS}/{ticket['id']}/time"))["entries"]
        if e["id"] == feb["id"]
    ]
    assert freed["invoice"] is None
    draft = await desk.draft(client, "2026-03-31")
    assert [line["rawMinutes"] for line in draft["lines"]] == [30]
    assert draft["subtotal"] == "50.00"

    # A draft's entries are locked too, with a hint to delete the draft.
    locked = await desk.patch(
        f"{TICKETS}/{ticket['id']}/time/{feb['id']}", {"minutes": 31}, status=409
    )
    assert locked["error"] == "The time entry is on a draft invoice"
    assert draft["id"] in locked["hint"]
    locked = await desk.delete(f"{TICKETS}/{ticket['id']}/time/{feb['id']}", status=409)
    assert locked["error"] == "The time entry is on a draft invoice"
    # Deleting the draft frees them: they can be edited, and a new draft takes them.
    deleted = await desk.delete(f"{INVOICES}/{draft['id']}")
    assert deleted == {"success": True, "message": "Draft deleted"}
    await desk.get(f"{INVOICES}/{draft['id']}", status=404)
    edited = await desk.patch(f"{TICKETS}/{ticket['id']}/time/{feb['id']}", {"minutes": 45})
    assert edited["minutes"] == 45 and edited["invoice"] is None

    clock.at = dt.datetime(2026, 4, 5, 8, 0, tzinfo=UTC)
    third = await desk.issue(await desk.draft(client, "2026-03-31"))
    assert third["number"] == "INV-2026-0003"
    assert third["issueDate"] == "2026-04-05" and third["subtotal"] == "75.00"
    listing = await desk.get(f"{INVOICES}?client={client['id']}")
    assert [(i["number"], i["status"]) for i in listing["invoices"]] == [
        ("INV-2026-0003", "issued"),
        ("INV-2026-0002", "void"),
        ("INV-2026-0001", "paid"),
        ("INV-2025-0001", "issued"),
    ]


async def test_issued_pdf_never_changes_and_reads_back(desk):
    client = await desk.new_client(
        "Pdfco", "pdf.test", hourlyRate="100.00", taxes=[{"name": "VAT", "rate": "19"}]
    )
    one = await desk.ticket("p@pdf.test", subject="Printer jam")
    two = await desk.ticket("p@pdf.test", subject="Mail bounce")
    await desk.log(one, 60, "2026-03-02T09:00:00Z")
    await desk.log(two, 30, "2026-03-03T09:00:00Z")
    invoice = await desk.issue(await desk.draft(client, "2026-03-31"), issueDate="2026-04-01")
    assert invoice["number"] == "INV-2026-0001" and invoice["pdf"] is True
    # 150.00 + 19 % (28.50) = 178.50.
    assert figures(invoice) == ("150.00", [("VAT", "19", "28.50")], "178.50")

    resp = await desk.http.get(f"{INVOICES}/INV-2026-0001.pdf", headers=desk.headers)
    assert resp.status == 200 and resp.content_type == "application/pdf"
    before = await resp.read()
    await desk.patch(f"{CLIENTS}/{client['id']}", {"name": "Pdfco Renamed GmbH"})
    after = await desk.get(f"{INVOICES}/INV-2026-0001.pdf")
    assert after == before

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(before)).pages)
    assert "INV-2026-0001" in text
    assert "Pdfco" in text and "Renamed" not in text
    for ticket in (one, two):
        assert ticket["publicId"] in text
    assert "178.50" in text

    resp = await desk.http.get(f"{INVOICES}/INV-2026-0001.csv", headers=desk.headers)
    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert [
        (r["invoice_number"], r["ticket"], r["subject"], r["billed_minutes"], r["amount"])
        for r in rows
    ] == [
        ("INV-2026-0001", one["publicId"], "Printer jam", "60", "100.00"),
        ("INV-2026-0001", two["publicId"], "Mail bounce", "30", "50.00"),
    ]
    assert {r["currency"] for r in rows} == {"EUR"}


# -- bad input ------------------------------------------------------------------------------------


async def test_bad_input_is_refused_with_a_hint_and_changes_nothing(desk, db):
    client = await desk.new_client("Strict", "strict.test", hourlyRate="100.00")
    other = await desk.new_client("Elsewhere", "elsewhere.test")
    theirs = await desk.bank(other)
    ticket = await desk.ticket("s@strict.test")
    before = await row_counts(db)

    time_path = f"{TICKETS}/{ticket['id']}/time"
    for minutes in (0, -15):
        refused = await desk.post(time_path, {"minutes": minutes, "description": "x"}, status=400)
        assert set(refused) >= {"error", "hint", "fields"} and "minutes" in refused["fields"]
    refused = await desk.post(
        time_path, {"minutes": 10, "description": "x", "contract": theirs["id"]}, status=400
    )
    assert refused["error"] == "The contract is another client's"
    assert refused["fields"] == {"contract": "another client's contract"}
    assert "Strict" in refused["hint"]
    refused = await desk.put(RATES, {"currency": "EUR", "rate": "1.005"}, status=400)
    assert "rate" in refused["fields"] and refused["hint"]
    refused = await desk.put(RATES, {"currency": "JPY", "rate": "1.5"}, status=400)
    assert "rate" in refused["fields"] and refused["hint"]
    refused = await desk.patch(f"{CLIENTS}/{client['id']}", {"hourlyRate": "95.001"}, status=400)
    assert "hourlyRate" in refused["fields"]
    refused = await desk.draft(client, "2026-03-31", status=409)
    assert refused["error"] == "Nothing to invoice" and refused["hint"]
    assert await row_counts(db) == before

    # An invoice with no lines (none can be made through the API) is not issued, and the
    # sequence is not touched.
    async with db.begin() as session:
        strict = await session.scalar(select(Client).where(Client.name == "Strict"))
        now = dt.datetime(2026, 4, 2, tzinfo=UTC)
        session.add(
            Invoice(
                desk_id="inv_emptyemptyempty",
                kind="invoice",
                series="INV",
                status="draft",
                client_id=strict.id,
                currency="EUR",
                period_start=dt.date(2026, 3, 1),
                period_end=dt.date(2026, 3, 31),
                subtotal=0,
                tax_total=0,
                total=0,
                taxes=[],
                seller={},
                client_details={},
                rounding="",
                created_by=TECH,
                created_at=now,
                updated_at=now,
            )
        )
    before = await row_counts(db)
    empty = await desk.issue({"id": "inv_emptyemptyempty"}, status=409)
    assert empty["error"] == "An empty invoice cannot be issued" and empty["hint"]
    assert await row_counts(db) == before
    async with db.session() as session:
        row = await session.scalar(select(Invoice).where(Invoice.desk_id == "inv_emptyemptyempty"))
        assert (row.status, row.number) == ("draft", None)


# -- who may bill ---------------------------------------------------------------------------------


async def test_scoped_keys_log_time_on_their_tickets_but_cannot_bill(desk, app_client):
    await add_product(app_client, "my-saas-app")
    scoped_key = await make_key(app_client, name="scoped@support.com", products=["my-saas-app"])
    scoped = Desk(app_client, bearer(scoped_key))
    client = await desk.new_client("Scopeless")
    mine = await scoped.ticket("c@scoped.test", productSlug="my-saas-app")
    for method, path, body in (
        ("GET", CLIENTS, None),
        ("POST", CLIENTS, {"name": "Nope"}),
        ("GET", f"{CLIENTS}/{client['id']}", None),
        ("GET", CONTRACTS, None),
        ("POST", CONTRACTS, {"client": client["id"]}),
        ("GET", INVOICES, None),
        ("POST", INVOICES, {"client": client["id"], "periodEnd": "2026-03-31"}),
        ("GET", RATES, None),
        ("PUT", RATES, {"currency": "EUR", "rate": "10.00"}),
        ("GET", "/api/v1/desk/time", None),
        ("PUT", f"{TICKETS}/{mine['id']}/client", {"client": client["id"]}),
    ):
        refused = await scoped.call(method, path, 403, json=body)
        assert refused["error"] and refused["hint"], (method, path)

    ticket = mine
    entry = await scoped.log(ticket, 20, technician="someone-else@support.com")
    assert entry["technician"] == "scoped@support.com"
    assert entry["startedAt"] == "2026-04-02T12:00:00.000Z"
    seed = await scoped.post(
        f"/api/tickets/{ticket['id']}/time", {"minutes": 5, "description": "seed 003"}
    )
    assert (seed["technician"], seed["minutes"]) == ("scoped@support.com", 5)
    seen = await scoped.get(f"{TICKETS}/{ticket['id']}/time")
    assert seen["totals"]["minutes"] == 25 and seen["totals"]["byTechnician"] == [
        {"technician": "scoped@support.com", "minutes": 25, "billableMinutes": 25}
    ]
    note = await scoped.post(
        f"/api/tickets/{ticket['id']}/comments", {"body": "Checked the logs", "internal": True}
    )
    reply = await scoped.post(
        f"/api/tickets/{ticket['id']}/comments", {"body": "Fixed now", "internal": False}
    )
    assert (note["internal"], reply["internal"]) == (True, False)
    assert note["author"] == "scoped@support.com"

    # A ticket outside the key's products is not found (seed path and desk path alike).
    elsewhere = await desk.ticket("c@scoped.test")
    for path in (f"/api/tickets/{elsewhere['id']}/time", f"{TICKETS}/{elsewhere['id']}/time"):
        await scoped.post(path, {"minutes": 5, "description": "no"}, status=404)
    await desk.post(
        "/api/tickets/tkt_nosuchticket00000/time", {"minutes": 5, "description": "no"}, status=404
    )
    await desk.post(
        f"/api/tickets/{ticket['id']}/time",
        {"minutes": 5},
        status=401,
        headers={"Authorization": "Bearer not-a-key-at-all-0000000000000"},
    )


# -- which client a ticket bills to ---------------------------------------------------------------


async def test_a_tickets_client_by_product_by_domain_and_by_staff(desk, app_client):
    await add_product(app_client, "portal")
    by_product = await desk.new_client("Portal Owner")
    await desk.patch(f"{CLIENTS}/{by_product['id']}", {"products": ["portal"]})
    by_domain = await desk.new_client("Domain Owner", domains=["domain.test"])
    assert (await desk.get(f"{CLIENTS}/{by_product['id']}"))["products"] == ["portal"]

    # The product wins over the requester's domain.
    on_product = await desk.ticket("x@domain.test", productSlug="portal")
    on_domain = await desk.ticket("y@Domain.Test")
    nobody = await desk.ticket("z@nowhere.test")
    for ticket, owner in ((on_product, by_product), (on_domain, by_domain)):
        listed = await desk.get(f"{TICKETS}/{ticket['id']}/time")
        assert listed["client"] == {"id": owner["id"], "name": owner["name"]}
    assert (await desk.get(f"{TICKETS}/{nobody['id']}/time"))["client"] is None

    entry = await desk.log(on_domain, 30, "2026-03-02T09:00:00Z")
    assert entry["client"]["id"] == by_domain["id"]
    moved = await desk.put(f"{TICKETS}/{on_domain['id']}/client", {"client": by_product["id"]})
    assert moved["client"]["id"] == by_product["id"] and moved["chosenByStaff"] is True
    [entry] = (await desk.get(f"{TICKETS}/{on_domain['id']}/time"))["entries"]
    assert entry["client"]["id"] == by_product["id"]
    back = await desk.put(f"{TICKETS}/{on_domain['id']}/client", {"client": None})
    assert back["client"]["id"] == by_domain["id"] and back["chosenByStaff"] is False

    # Time on the domain client's contract cannot follow the ticket to another client.
    bank = await desk.bank(by_domain)
    await desk.log(on_domain, 15, "2026-03-03T09:00:00Z", contract=bank["id"])
    refused = await desk.put(
        f"{TICKETS}/{on_domain['id']}/client", {"client": by_product["id"]}, status=409
    )
    assert refused["error"] == "Time on this ticket is on the old client's contract"
    assert refused["hint"]
    listed = await desk.get(f"{TICKETS}/{on_domain['id']}/time")
    assert listed["client"]["id"] == by_domain["id"]
    assert {e["client"]["id"] for e in listed["entries"]} == {by_domain["id"]}
