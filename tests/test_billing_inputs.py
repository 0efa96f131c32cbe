"""The billing API against its OpenAPI document (bot/api/openapi/billing.py): a tour whose
every JSON answer the recorder validates, what the document says of the request fields, and
regression tests for what schemathesis found."""

from __future__ import annotations

import datetime as dt

import pytest
from jsonschema import Draft202012Validator

from bot.api.openapi import SPEC
from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.deskkit import bearer, make_key
from tests.openapi_recorder import ResponseRecorder

NOW = dt.datetime(2026, 4, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def desk(db, aiohttp_client):
    """An app at NOW whose JSON answers must match the document, and an unscoped key."""
    recorder = ResponseRecorder()
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = lambda: NOW
    app.on_response_prepare.append(recorder.on_prepare)
    client = await aiohttp_client(app)
    key = await make_key(client)
    yield client, bearer(key)
    recorder.assert_valid()


def schema(name: str) -> dict:
    return {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}


def valid(name: str, value: object) -> bool:
    return Draft202012Validator(schema(name)).is_valid(value)


async def _json(resp, status: int) -> dict:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_a_tour_of_billing_matches_the_document(desk):
    """Every billing operation once, its answers checked against the document at teardown."""
    c, h = desk
    client = await _json(
        await c.post(
            "/api/v1/desk/clients",
            json={
                "name": "Acme",
                "currency": "EUR",
                "taxes": [{"name": "VAT", "rate": "19"}],
                "domains": ["acme.test"],
                "timeZone": "Europe/Berlin",
            },
            headers=h,
        ),
        201,
    )
    await _json(await c.get(f"/api/v1/desk/clients/{client['id']}", headers=h), 200)
    await _json(
        await c.patch(
            f"/api/v1/desk/clients/{client['id']}", json={"address": "1 Road"}, headers=h
        ),
        200,
    )
    await _json(await c.get("/api/v1/desk/clients?limit=1", headers=h), 200)
    bank = await _json(
        await c.post(
            "/api/v1/desk/contracts",
            json={
                "client": client["id"],
                "name": "Acme 20h",
                "kind": "time_based",
                "startsOn": "2026-01-01",
                "hoursPerPeriod": 20,
                "hourlyRate": "80.00",
                "overageRate": "120.00",
                "rollover": True,
                "rolloverCapHours": 10,
                "rounding": {"increment": 15, "mode": "up"},
            },
            headers=h,
        ),
        201,
    )
    fixed = await _json(
        await c.post(
            "/api/v1/desk/contracts",
            json={
                "client": client["id"],
                "name": "Hosting",
                "kind": "fixed_price",
                "startsOn": "2026-01-01",
                "fee": 50,
                "scope": "Hosting",
            },
            headers=h,
        ),
        201,
    )
    await _json(await c.get(f"/api/v1/desk/contracts/{bank['id']}", headers=h), 200)
    await _json(
        await c.patch(f"/api/v1/desk/contracts/{fixed['id']}", json={"name": "Host"}, headers=h),
        200,
    )
    await _json(await c.get(f"/api/v1/desk/contracts?client={client['id']}", headers=h), 200)
    ticket = await _json(
        await c.post(
            "/api/v1/desk/tickets",
            json={"subject": "VPN", "body": "b", "email": "bob@acme.test"},
            headers=h,
        ),
        201,
    )
    time = f"/api/v1/desk/tickets/{ticket['id']}/time"
    for when, minutes in (("2026-01-10T10:00:00Z", 900), ("2026-03-05T10:00:00Z", 1380)):
        await _json(
            await c.post(
                f"/api/tickets/{ticket['id']}/time",
                json={
                    "minutes": minutes,
                    "description": "work",
                    "startedAt": when,
                    "contract": bank["id"],
                },
                headers=h,
            ),
            201,
        )
    loose = await _json(
        await c.post(time, json={"minutes": 7, "description": "loose"}, headers=h), 201
    )
    await _json(await c.patch(f"{time}/{loose['id']}", json={"billable": False}, headers=h), 200)
    await _json(await c.delete(f"{time}/{loose['id']}", headers=h), 200)
    await _json(await c.post(time, json={"minutes": 7, "description": "loose"}, headers=h), 201)
    await _json(await c.get(time, headers=h), 200)
    await _json(
        await c.post(
            f"/api/tickets/{ticket['id']}/comments",
            json={"body": "note", "internal": True},
            headers=h,
        ),
        201,
    )
    await _json(
        await c.put(
            f"/api/v1/desk/tickets/{ticket['id']}/client", json={"client": None}, headers=h
        ),
        200,
    )
    await _json(
        await c.get(f"/api/v1/desk/contracts/{bank['id']}/ledger?through=2026-03-31", headers=h),
        200,
    )
    await _json(await c.get(f"/api/v1/desk/contracts/{fixed['id']}/ledger", headers=h), 409)
    await _json(
        await c.put("/api/v1/desk/rates", json={"currency": "EUR", "rate": "90"}, headers=h), 200
    )
    await _json(
        await c.put(
            "/api/v1/desk/rates",
            json={"technician": "agent@support.com", "currency": "EUR", "rate": 95},
            headers=h,
        ),
        200,
    )
    await _json(await c.get("/api/v1/desk/rates", headers=h), 200)
    draft = await _json(
        await c.post(
            "/api/v1/desk/invoices",
            json={"client": client["id"], "periodStart": "2026-01-01", "periodEnd": "2026-04-30"},
            headers=h,
        ),
        201,
    )
    await _json(await c.get(f"/api/v1/desk/invoices/{draft['id']}", headers=h), 200)
    locked = await c.patch(
        f"{time}/{(await (await c.get(time, headers=h)).json())['entries'][0]['id']}",
        json={"minutes": 5},
        headers=h,
    )
    await _json(locked, 409)
    await _json(await c.delete(f"/api/v1/desk/invoices/{draft['id']}", headers=h), 200)
    draft = await _json(
        await c.post(
            "/api/v1/desk/invoices",
            json={"client": client["id"], "periodStart": "2026-01-01", "periodEnd": "2026-04-30"},
            headers=h,
        ),
        201,
    )
    issued = await _json(
        await c.post(f"/api/v1/desk/invoices/{draft['id']}/issue", json={}, headers=h), 200
    )
    assert issued["number"] == "INV-2026-0001"
    number = issued["number"]
    for suffix, content_type in ((".pdf", "application/pdf"), (".csv", "text/csv")):
        resp = await c.get(f"/api/v1/desk/invoices/{number}{suffix}", headers=h)
        assert resp.status == 200 and resp.content_type == content_type
        assert (
            content_type
            in SPEC["paths"]["/api/v1/desk/invoices/{ref}"]["get"]["responses"]["200"]["content"]
        )
    await _json(await c.delete(f"/api/v1/desk/invoices/{number}", headers=h), 409)
    await _json(
        await c.post(
            f"/api/v1/desk/invoices/{number}/pay", json={"paidOn": "2026-04-10"}, headers=h
        ),
        200,
    )
    await _json(await c.post(f"/api/v1/desk/invoices/{number}/void", json={}, headers=h), 409)
    line = issued["lines"][0]["id"]
    note = await _json(
        await c.post(
            f"/api/v1/desk/invoices/{number}/credit",
            json={"reason": "discount", "lines": [line]},
            headers=h,
        ),
        201,
    )
    assert note["number"] == "CN-2026-0001" and note["creditFor"] == number
    await _json(await c.get("/api/v1/desk/invoices?status=issued", headers=h), 200)
    await _json(await c.get("/api/v1/desk/invoices?limit=1", headers=h), 200)
    await _json(
        await c.get("/api/v1/desk/time?groupBy=week&timeZone=Europe/Berlin&limit=1", headers=h),
        200,
    )
    await _json(await c.get("/api/v1/desk/time?billable=maybe", headers=h), 400)
    await _json(await c.get("/api/v1/desk/invoices/INV-2026-0999", headers=h), 404)


async def test_a_key_limited_to_products_is_refused_billing_as_the_document_says(desk):
    c, _ = desk
    product = {"slug": "my-saas-app", "repo": "octo-org/my-saas-app", "name": "My SaaS App"}
    await _json(await c.post("/api/admin/products", json=product, headers=ADMIN_HEADERS), 201)
    scoped = bearer(await make_key(c, name="scoped", products=["my-saas-app"]))
    for method, path in (
        ("get", "/api/v1/desk/clients"),
        ("get", "/api/v1/desk/time"),
        ("get", "/api/v1/desk/invoices"),
        ("put", "/api/v1/desk/rates"),
    ):
        resp = await c.request(method, path, json={}, headers=scoped)
        assert resp.status == 403, (method, path)
        operation = SPEC["paths"][path][method]
        assert "403" in operation["responses"]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("95.00", True),
        (" 95 ", True),
        (95, True),
        (9.5, True),
        ("-0", True),
        ("-1", False),
        ("1e3", False),
        ("", False),
        (None, False),
        (True, False),
        (-1, False),
    ],
)
def test_money_in_the_document_is_a_decimal_string_or_a_number(value, accepted):
    body = {"currency": "EUR", "rate": value}
    if value is None:
        assert valid("RateSet", body)  # null removes the rate
        return
    assert valid("RateSet", body) == accepted


def test_a_new_contract_needs_the_terms_of_its_kind_in_the_document():
    base = {"client": "cli_x", "name": "n", "startsOn": "2026-01-01"}
    assert valid("ContractCreate", {**base, "kind": "fixed_price", "fee": "10"})
    assert not valid("ContractCreate", {**base, "kind": "fixed_price"})
    bank = {**base, "kind": "time_based", "hourlyRate": "1", "overageRate": "0"}
    assert valid("ContractCreate", {**bank, "hoursPerPeriod": 20})
    assert not valid("ContractCreate", {**bank, "hoursPerPeriod": 0})
    assert not valid("ContractCreate", {**bank, "hoursPerPeriod": "0.00"})
    assert not valid("ContractCreate", {**bank, "hoursPerPeriod": 20, "period": "one_off"})


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("DATE", "2000-01-01", True),
        ("DATE", "2100-12-31", True),
        ("DATE", "1999-12-31", False),
        ("DATE", "2101-01-01", False),
        ("INSTANT", "2026-12-02T09:30:00Z", True),
        ("INSTANT", "2026-12-02T09:30:00.123+05:30", True),
        ("INSTANT", "2026-12-02t09:30:00z", False),
        ("INSTANT", "2026-12-02T09:30:60Z", False),
        ("INSTANT", "1999-12-31T23:00:00-05:00", False),
    ],
)
def test_dates_and_instants_in_the_document_are_what_the_server_reads(name, value, accepted):
    """The document's dates and instants are a subset of what billing_input accepts, and the
    patterns refuse what it refuses."""
    from bot.api.openapi import billing
    from bot.rules import billing_input
    from bot.rules.validation import FieldErrors

    schema_ = getattr(billing, name)
    assert Draft202012Validator(schema_).is_valid(value) == accepted
    read = billing_input._date if name == "DATE" else billing_input._instant
    errors = FieldErrors()
    if accepted:
        assert read(errors, {"f": value}, "f") is not None and not errors.fields


async def test_a_client_name_taken_beyond_ascii_is_a_409_not_a_500(desk):
    """Schemathesis: POST /clients twice with a name holding "Ò" answered 500 (SQLite's lower()
    leaves it, Python's does not, so the case-blind lookup missed it and the unique index
    refused the insert); the same on a PATCH to that name."""
    c, h = desk
    name = "Ò Ltd"
    await _json(await c.post("/api/v1/desk/clients", json={"name": name}, headers=h), 201)
    again = await _json(await c.post("/api/v1/desk/clients", json={"name": name}, headers=h), 409)
    assert again["error"] == "A client has that name" and again["fields"] == {
        "name": "name is taken"
    }
    other = await _json(await c.post("/api/v1/desk/clients", json={"name": "B"}, headers=h), 201)
    renamed = await c.patch(f"/api/v1/desk/clients/{other['id']}", json={"name": name}, headers=h)
    await _json(renamed, 409)
    listed = await _json(await c.get("/api/v1/desk/clients", headers=h), 200)
    assert sorted(client["name"] for client in listed["clients"]) == ["B", name]


def test_schemathesis_drops_only_the_billing_refusals_a_schema_cannot_express():
    """tests/schemathesis_hooks.py: a 400 for more decimals than the stored currency has is
    no finding; a 400 for anything else, or for a money field beside it, still is."""
    from types import SimpleNamespace

    from tests.schemathesis_hooks import _semantic_billing_refusal as dropped

    def answer(fields: dict[str, str], status: int = 400):
        return SimpleNamespace(status_code=status, json=lambda: {"fields": fields})

    failure = SimpleNamespace(code="ST202")
    case = SimpleNamespace(body={"rate": 1e-07, "currency": "EUR"})
    decimals = {"hourlyRate": "hourlyRate JPY has whole units; '1.5' has more"}
    assert dropped(failure, case, answer(decimals))
    assert dropped(failure, case, answer({"rate": "rate must be a decimal number"}))
    assert not dropped(failure, case, answer({**decimals, "name": "name is required"}))
    assert not dropped(failure, case, answer({"minutes": "minutes must be a whole number"}))
    assert not dropped(SimpleNamespace(code="ST201"), case, answer(decimals))
    assert not dropped(failure, case, answer(decimals, status=500))


@pytest.mark.parametrize(
    "rounding", [False, 0, "", [], "up", {"increment": 0}, {"mode": "sideways"}]
)
def test_a_rounding_that_is_not_an_increment_and_a_mode_is_refused(rounding):
    """Protects: a contract's rounding is an object or null; false, 0, "" and [] are not
    taken silently as exact minutes."""
    from bot.errors import ApiError
    from bot.rules.billing_input import validate_contract

    body = {
        "name": "Acme",
        "kind": "fixed_price",
        "startsOn": "2026-01-01",
        "fee": "100.00",
        "rounding": rounding,
    }
    with pytest.raises(ApiError) as refused:
        validate_contract(body, currency="EUR", default_zone="UTC")
    assert "rounding" in refused.value.extra["fields"]
