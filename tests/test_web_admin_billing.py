"""The admin billing pages (issue 16) with an admin session and the app's clock set by the
test: a client and a time-based contract made through their forms, time logged on a ticket's
page (the admin as technician), the contract's ledger, an invoice drafted, deleted, drafted
again, issued, downloaded, paid and credited, every figure written out; refusals shown on the
page with their status, never a 500, and changing nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from storage.models import Client, Contract, Invoice, TimeEntry
from tests.conftest import ADMIN_TOKEN
from tests.openapi_recorder import ResponseRecorder
from tests.test_web_admin import sign_in
from tests.web_helpers import open_test_ticket

NOW = dt.datetime(2026, 4, 2, 12, 0, tzinfo=dt.UTC)
CLIENT_FORM = {
    "name": "Acme GmbH",
    "address": "Hauptstr. 1, Berlin",
    "taxId": "DE123",
    "email": "billing@acme.test",
    "currency": "EUR",
    "hourlyRate": "",
    "timeZone": "Europe/Berlin",
    "taxes": "VAT 19",
    "paymentDays": "",
    "domains": "acme.test",
    "products": "",
}
CONTRACT_FORM = {
    "name": "Acme 20 h",
    "kind": "time_based",
    "period": "month",
    "startsOn": "2026-01-01",
    "endsOn": "",
    "timeZone": "",
    "increment": "15",
    "mode": "up",
    "hoursPerPeriod": "20",
    "hourlyRate": "80.00",
    "overageRate": "120.00",
    "rollover": "on",
    "rolloverCapHours": "10",
    "fee": "",
    "scope": "",
}
LOCATION_ID = re.compile(r"/admin/(?:clients|contracts|invoices)/([^?]+)")


def text_of(page: str) -> str:
    """The page's words, tags dropped and spaces collapsed, to read figures back."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.fixture
async def admin(db, aiohttp_client):
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = lambda: NOW
    recorder = ResponseRecorder()
    app.on_response_prepare.append(recorder.on_prepare)
    client = await aiohttp_client(app)
    csrf = await sign_in(client)

    async def post(url: str, form: dict[str, str]):
        return await client.post(url, data={"csrf_token": csrf, **form}, allow_redirects=False)

    yield client, post
    recorder.assert_valid()


async def count(db, model) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def make_client_and_contract(post) -> tuple[str, str]:
    resp = await post("/admin/clients", CLIENT_FORM)
    assert resp.status == 303, await resp.text()
    client_id = LOCATION_ID.search(resp.headers["Location"])[1]
    resp = await post("/admin/contracts", {**CONTRACT_FORM, "client": client_id})
    assert resp.status == 303, await resp.text()
    return client_id, LOCATION_ID.search(resp.headers["Location"])[1]


async def test_a_client_is_added_listed_and_edited_through_the_forms(admin, db):
    client, post = admin
    resp = await post("/admin/clients", CLIENT_FORM)
    assert resp.status == 303
    page = await (await client.get(resp.headers["Location"])).text()
    assert "Client Acme GmbH added." in page and 'value="Europe/Berlin"' in page
    listing = text_of(await (await client.get("/admin/clients")).text())
    assert "Acme GmbH EUR — VAT 19 acme.test" in listing

    resp = await post(
        resp.headers["Location"].split("?")[0],
        {**CLIENT_FORM, "paymentDays": "30", "hourlyRate": "95.5"},
    )
    assert resp.status == 303, await resp.text()
    async with db.session() as session:
        stored = (await session.execute(select(Client))).scalar_one()
    assert (stored.payment_days, stored.hourly_rate, stored.taxes) == (
        30,
        9550,
        [{"name": "VAT", "rate": "19"}],
    )


async def test_a_refused_client_form_shows_each_problem_and_stores_nothing(admin, db):
    _client, post = admin
    resp = await post(
        "/admin/clients",
        {**CLIENT_FORM, "currency": "EURO", "hourlyRate": "95.005", "domains": "not a domain"},
    )
    assert resp.status == 400
    page = await resp.text()
    assert "currency must be an ISO 4217 code" in page
    assert "not an email domain" in page
    assert 'value="EURO"' in page  # the form keeps what was typed
    assert await count(db, Client) == 0
    # A name taken is the service's 409, shown on the form.
    assert (await post("/admin/clients", CLIENT_FORM)).status == 303
    resp = await post("/admin/clients", {**CLIENT_FORM, "domains": ""})
    assert resp.status == 409 and "name is taken" in await resp.text()
    assert await count(db, Client) == 1


async def test_time_logged_on_a_ticket_page_is_the_admins_and_totals_show(admin, db):
    client, post = admin
    _client_id, contract_id = await make_client_and_contract(post)
    public_id, _ = await open_test_ticket(db, product_slug=None, email="bob@acme.test")
    page = await (await client.get(f"/admin/tickets/{public_id}")).text()
    assert "Bills to:" in page and "Acme GmbH" in page and "No time logged yet." in page
    assert f'<option value="{contract_id}">Acme 20 h</option>' in page

    url = f"/admin/tickets/{public_id}/time"
    resp = await post(
        url,
        {
            "minutes": "90",
            "description": "VPN fix",
            "billable": "on",
            "startedAt": "2026-03-05T10:00:00Z",
            "contract": contract_id,
        },
    )
    assert resp.status == 303, await resp.text()
    resp = await post(
        url, {"minutes": "30", "description": "Call", "startedAt": "", "contract": ""}
    )  # no "billable": the box was unticked
    assert resp.status == 303
    page = text_of(await (await client.get(resp.headers["Location"])).text())
    assert "Time logged." in page
    assert "120 min in all (2.00 h): 90 min billable , 30 min not billable." in page
    assert "5 Mar 2026, 10:00 UTC admin 90 min yes VPN fix Acme 20 h" in page
    async with db.session() as session:
        technicians = (await session.execute(select(TimeEntry.technician))).scalars().all()
    assert technicians == ["admin", "admin"]

    # Zero minutes and a date before the contract: the page says why, nothing is stored.
    resp = await post(
        url, {"minutes": "0", "description": "", "billable": "on", "startedAt": "", "contract": ""}
    )
    assert resp.status == 400
    page = await resp.text()
    assert "minutes must be a whole number from 1 to 1440" in page
    assert "description is required" in page
    resp = await post(
        url,
        {
            "minutes": "10",
            "description": "Old",
            "billable": "on",
            "startedAt": "2025-12-31T10:00:00Z",
            "contract": contract_id,
        },
    )
    assert resp.status == 400 and "The time is outside the contract" in await resp.text()
    assert await count(db, TimeEntry) == 2


async def test_a_contract_page_shows_its_terms_ledger_and_warnings(admin, db):
    client, post = admin
    _client_id, contract_id = await make_client_and_contract(post)
    public_id, _ = await open_test_ticket(db, product_slug=None, email="bob@acme.test")
    # 17 h in March: with February's 10 h rolled in, 30 h available; 17 h is 56 %. Then 8 h
    # more: 25 h of 30 is 83 %, past the 80 % warning.
    for started, minutes in (("2026-03-05T10:00:00Z", 1020), ("2026-03-06T10:00:00Z", 480)):
        resp = await post(f"/admin/tickets/{public_id}/time", {
            "minutes": str(minutes), "description": "Work", "billable": "on",
            "startedAt": started, "contract": contract_id})  # fmt: skip
        assert resp.status == 303, await resp.text()

    page = text_of(
        await (await client.get(f"/admin/contracts/{contract_id}?through=2026-03-31")).text()
    )
    assert "Bank per period 20.00 h" in page and "Overage rate 120.00 EUR" in page
    assert "Rollover yes, at most 10.00 h" in page and "Rounding to 15 min, up" in page
    assert "Balance on 2026-03-31: 5.00 h" in page
    # Each period's sums: rolled in, purchased, drawn, overage, expired, balance.
    # January's unused 20 h expire at its end; 10 h (the cap) come back on 1 February.
    assert "2026-01-31 Expiry 2026-01-01 -20.00 h 20.00 h 0.00 h" in page
    assert "2026-02-01 Rollover 2026-02-01 +10.00 h 10.00 h 10.00 h" in page
    assert "2026-03-06 Draw 2026-03-01 -8.00 h 8.00 h 5.00 h TK-00001 Work" in page
    assert "2026-01-01 to 2026-01-31 0.00 h 20.00 h 0.00 h 0.00 h 20.00 h 0.00 h closed" in page
    assert "2026-03-01 to 2026-03-31 10.00 h 20.00 h 25.00 h 0.00 h 0.00 h 5.00 h open" in page
    assert "80 % used 2026-03-01 25.00 h of 30.00 h" in page
    # The list of the client's contracts links to it; a bad date is a 400 on the page.
    listing = await (await client.get("/admin/contracts")).text()
    assert f'href="/admin/contracts/{contract_id}"' in listing
    resp = await client.get(f"/admin/contracts/{contract_id}?through=March")
    assert resp.status == 400 and "through must be a date" in await resp.text()


async def test_a_refused_contract_form_names_its_fields(admin, db):
    _client, post = admin
    client_id, _ = await make_client_and_contract(post)
    resp = await post(
        "/admin/contracts",
        {
            **CONTRACT_FORM,
            "client": client_id,
            "hoursPerPeriod": "",
            "hourlyRate": "1.234",
            "increment": "0",
        },
    )
    assert resp.status == 400
    page = await resp.text()
    assert "hourlyRate EUR has 2 decimals" in page
    assert "rounding needs an increment of whole minutes and a mode" in page
    assert await count(db, Contract) == 1


async def test_an_invoice_is_drafted_issued_downloaded_paid_and_credited(admin, db):
    client, post = admin
    client_id, contract_id = await make_client_and_contract(post)
    public_id, _ = await open_test_ticket(db, product_slug=None, email="bob@acme.test")
    resp = await post(f"/admin/tickets/{public_id}/time", {
        "minutes": "1500", "description": "Migration", "billable": "on",
        "startedAt": "2026-01-10T10:00:00Z", "contract": contract_id})  # fmt: skip
    assert resp.status == 400  # more than a day's minutes in one entry
    for started in ("2026-01-10T10:00:00Z", "2026-01-11T10:00:00Z"):
        resp = await post(f"/admin/tickets/{public_id}/time", {
            "minutes": "750", "description": "Migration", "billable": "on",
            "startedAt": started, "contract": contract_id})  # fmt: skip
        assert resp.status == 303

    draft = {
        "client": client_id,
        "periodStart": "2026-01-01",
        "periodEnd": "2026-01-31",
        "notes": "",
    }
    resp = await post("/admin/invoices", draft)
    assert resp.status == 303, await resp.text()
    draft_id = LOCATION_ID.search(resp.headers["Location"])[1]
    page = text_of(await (await client.get(resp.headers["Location"])).text())
    assert "Invoice draft " + draft_id in page and "not issued" in page
    # January: the bank (20 h at 80.00) and 5 h overage (25 h drawn) at 120.00.
    assert "Hour bank: 20.00 h, 2026-01-01 to 2026-01-31" in page and "1600.00 EUR" in page
    assert "Overage beyond the hour bank" in page and "5.00 h 120.00 EUR 600.00 EUR" in page
    assert "Subtotal 2200.00 EUR" in page
    assert "VAT 19 % of 2200.00 EUR 418.00 EUR" in page and "Total 2618.00 EUR" in page

    # The same work cannot go on a second draft; deleting the draft lets it go.
    resp = await post("/admin/invoices", draft)
    assert resp.status == 409 and "Nothing to invoice" in await resp.text()
    resp = await post(f"/admin/invoices/{draft_id}/delete", {})
    assert resp.status == 303
    assert (
        "Draft " + draft_id + " deleted"
        in await (await client.get(resp.headers["Location"])).text()
    )
    resp = await post("/admin/invoices", draft)
    assert resp.status == 303
    draft_id = LOCATION_ID.search(resp.headers["Location"])[1]

    resp = await post(f"/admin/invoices/{draft_id}/issue", {"issueDate": "2026-02-01"})
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"] == "/admin/invoices/INV-2026-0001?notice=invoice-issued"
    page = text_of(await (await client.get(resp.headers["Location"])).text())
    assert "Invoice INV-2026-0001" in page and "Issue date 2026-02-01" in page
    assert "Due date 2026-02-15" in page and "Total 2618.00 EUR" in page

    pdf = await client.get("/admin/invoices/INV-2026-0001/pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert (await pdf.read())[:5] == b"%PDF-"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="INV-2026-0001.pdf"'
    async with db.session() as session:
        stored = (await session.execute(select(Invoice.pdf))).scalar_one()
    assert stored == await pdf.read()  # the PDF stored at issue, not drawn again
    csv = await client.get("/admin/invoices/INV-2026-0001/csv")
    assert csv.status == 200 and "Overage beyond the hour bank" in await csv.text()

    # The ticket's entries now link to the invoice; an issued invoice is never deleted.
    ticket = await (await client.get(f"/admin/tickets/{public_id}")).text()
    assert ticket.count('href="/admin/invoices/INV-2026-0001"') == 2
    resp = await post("/admin/invoices/INV-2026-0001/delete", {})
    assert resp.status == 409 and "Issued invoices are never deleted" in await resp.text()

    resp = await post("/admin/invoices/INV-2026-0001/pay", {"paidOn": "2026-02-10"})
    assert resp.status == 303
    page = text_of(await (await client.get(resp.headers["Location"])).text())
    assert "Invoice marked paid." in page and "Paid on 2026-02-10" in page
    assert "Void invoice" not in page
    resp = await post("/admin/invoices/INV-2026-0001/void", {"reason": "late"})
    assert resp.status == 409
    assert "A paid invoice cannot be voided" in await resp.text()

    resp = await post("/admin/invoices/INV-2026-0001/credit", {"creditReason": ""})
    assert resp.status == 400 and "reason is required" in await resp.text()
    resp = await post("/admin/invoices/INV-2026-0001/credit", {"creditReason": "Goodwill"})
    assert resp.status == 303
    assert resp.headers["Location"] == "/admin/invoices/CN-2026-0001?notice=credit-issued"
    page = text_of(await (await client.get(resp.headers["Location"])).text())
    assert "Credit note CN-2026-0001" in page and "Credits INV-2026-0001" in page
    assert "Total -2618.00 EUR" in page

    listing = text_of(await (await client.get(f"/admin/invoices?client={client_id}")).text())
    assert "CN-2026-0001 credit note Acme GmbH issued" in listing
    assert "INV-2026-0001 invoice Acme GmbH paid 2026-01-01 to 2026-01-31 2026-02-01" in listing
    paid = text_of(await (await client.get("/admin/invoices?status=paid")).text())
    assert "INV-2026-0001" in paid and "CN-2026-0001" not in paid
    resp = await client.get("/admin/invoices?status=lost")
    assert resp.status == 400 and "There is no status" in await resp.text()


async def test_unknown_billing_pages_are_404s_and_the_pages_need_a_session(
    admin, db, aiohttp_client
):
    client, _post = admin
    for url in (
        "/admin/clients/cli_nope",
        "/admin/contracts/con_nope",
        "/admin/invoices/INV-2026-9999",
        "/admin/invoices/INV-2026-9999/pdf",
    ):
        assert (await client.get(url)).status == 404, url
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    anonymous = await aiohttp_client(app)
    for url in ("/admin/clients", "/admin/contracts", "/admin/invoices"):
        resp = await anonymous.get(url, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/admin/sign-in")
    resp = await anonymous.post("/admin/invoices", data={"client": "cli_x"})
    assert resp.status == 403
