"""SLA policies managed through the admin API and chosen in the desk API (issue 15, items 1,
2 and 10): create, show, edit, delete, make default; every bad input a 400 naming the field
that changes nothing; edits and deletes computing the stored due times of open tickets
again, from their creation; a product's policy governing only its new tickets; a ticket's
policy changed by staff.

Time is the app's clock (``bot.appkeys.CLOCK``), set by each test; every expected due time
is written out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from storage.models import Product, SlaPolicy, Ticket
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.deskkit import add_product, bearer, create_ticket, make_key
from tests.openapi_recorder import ResponseRecorder

UTC = dt.UTC
# Friday 6 March 2026, 16:50 in Berlin (CET, UTC+1; summer time starts on 29 March).
FRIDAY_1650_BERLIN = dt.datetime(2026, 3, 6, 15, 50, tzinfo=UTC)
POLICIES = "/api/admin/sla/policies"
SEED_003 = {
    "critical": {"response": 30, "resolution": 240},
    "high": {"response": 120, "resolution": 480},
    "medium": {"response": 480, "resolution": 2880},
    "low": {"response": 1440, "resolution": 10080},
}
WORKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in WORKDAYS}
EU_HOURS = {
    "name": "EU hours",
    "calendar": {"timeZone": "Europe/Berlin", "hours": NINE_TO_FIVE},
}


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(FRIDAY_1650_BERLIN)


@pytest.fixture
async def client(db, aiohttp_client, clock):
    """The whole app on the test's clock; every JSON answer checked against the document."""
    recorder = ResponseRecorder()
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = clock
    app.on_response_prepare.append(recorder.on_prepare)
    yield await aiohttp_client(app)
    recorder.assert_valid()


async def policies(client) -> list[dict]:
    resp = await client.get(POLICIES, headers=ADMIN_HEADERS)
    assert resp.status == 200
    return (await resp.json())["policies"]


async def create_policy(client, body: dict) -> dict:
    resp = await client.post(POLICIES, json=body, headers=ADMIN_HEADERS)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def stored(db, desk_id: str) -> tuple[dt.datetime | None, dt.datetime | None, int | None]:
    """A ticket's stored response due time, resolution due time and policy id."""
    async with db.session() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.desk_id == desk_id))
        assert ticket is not None
        return ticket.first_response_due_at, ticket.due_at, ticket.sla_policy_id


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# -- listing, creating, showing -------------------------------------------------------------


async def test_out_of_the_box_the_default_policy_is_seed_003s_table_on_wall_clock_time(client):
    [default] = await policies(client)
    assert default["name"] == "Default" and default["default"] is True
    assert default["targets"] == SEED_003
    assert default["calendar"] is None  # 24x7
    assert default["responseEnds"] == "comment_or_status"
    assert default["products"] == []


async def test_a_policy_is_created_with_seed_003s_targets_for_the_levels_left_out(client):
    created = await create_policy(
        client, {**EU_HOURS, "targets": {"urgent": {"response": 15}}, "warnMinutes": 10}
    )
    # urgent is seed 003's critical; the clock left out keeps its default.
    assert created["targets"] == {**SEED_003, "critical": {"response": 15, "resolution": 240}}
    assert created["calendar"] == {
        "timeZone": "Europe/Berlin",
        "hours": {**NINE_TO_FIVE, "saturday": [], "sunday": []},  # stored: every weekday
        "holidays": [],
    }
    assert created["default"] is False and created["warnMinutes"] == 10
    by_id = await (await client.get(f"{POLICIES}/{created['id']}", headers=ADMIN_HEADERS)).json()
    by_name = await client.get(f"{POLICIES}/eu%20HOURS", headers=ADMIN_HEADERS)
    assert by_id == created == await by_name.json()
    assert [p["name"] for p in await policies(client)] == ["Default", "EU hours"]
    missing = await client.get(f"{POLICIES}/nope", headers=ADMIN_HEADERS)
    assert missing.status == 404 and (await missing.json())["error"] == "SLA policy not found"


async def test_policy_routes_need_the_admin_token(client):
    assert (await client.get(POLICIES)).status == 401
    assert (await client.post(POLICIES, json=EU_HOURS)).status == 401


async def test_names_are_unique_whatever_their_case(client):
    eu = await create_policy(client, EU_HOURS)
    resp = await client.post(POLICIES, json={"name": "  default "}, headers=ADMIN_HEADERS)
    assert resp.status == 409
    assert "name" in (await resp.json())["fields"]
    renamed = await client.patch(
        f"{POLICIES}/{eu['id']}", json={"name": "DEFAULT"}, headers=ADMIN_HEADERS
    )
    assert renamed.status == 409
    assert [p["name"] for p in await policies(client)] == ["Default", "EU hours"]
    # Its own name in another case is a rename, not a clash.
    own = await client.patch(
        f"{POLICIES}/{eu['id']}", json={"name": "EU Hours"}, headers=ADMIN_HEADERS
    )
    assert own.status == 200 and (await own.json())["name"] == "EU Hours"


# -- bad input: 400 with fields, nothing changed --------------------------------------------

BAD_DOCUMENTS = [
    pytest.param(
        {"calendar": {"timeZone": "Mars/Olympus_Mons", "hours": NINE_TO_FIVE}},
        "calendar.timeZone",
        id="unknown time zone",
    ),
    pytest.param(
        {
            "calendar": {
                "timeZone": "Europe/Berlin",
                "hours": {"monday": [["09:00", "13:00"], ["12:00", "17:00"]]},
            }
        },
        "calendar.hours.monday",
        id="overlapping intervals",
    ),
    pytest.param(
        {
            "calendar": {
                "timeZone": "Europe/Berlin",
                "hours": {"monday": [["17:00", "09:00"]]},
            }
        },
        "calendar.hours.monday",
        id="an interval ending before it starts",
    ),
    pytest.param(
        {
            "calendar": {
                "timeZone": "Europe/Berlin",
                "hours": NINE_TO_FIVE,
                "holidays": ["25/12/2026"],
            }
        },
        "calendar.holidays[0]",
        id="a holiday in the wrong format",
    ),
    pytest.param(
        {"calendar": {"timeZone": "UTC", "hours": NINE_TO_FIVE, "holidayCountry": "XX"}},
        "calendar.holidayCountry",
        id="a country without known holidays",
    ),
    pytest.param(
        {"targets": {"critical": {"response": -5}}},
        "targets.critical.response",
        id="negative minutes",
    ),
    pytest.param({"targets": {"critical": {"resolution": 0}}}, "targets.critical.resolution"),
    pytest.param({"targets": {"blocker": {"response": 5}}}, "targets.blocker"),
    pytest.param({"warnMinutes": -1}, "warnMinutes", id="negative warning minutes"),
    pytest.param({"responseEnds": "never"}, "responseEnds"),
    pytest.param({"responseEnds": ["comment"]}, "responseEnds", id="responseEnds not text"),
    pytest.param(
        {"calendar": {"timeZone": "UTC", "hours": NINE_TO_FIVE, "holidayCountry": "utils"}},
        "calendar.holidayCountry",
        id="a module of the holidays package, no country",
    ),
    pytest.param(
        {"calendar": {"timeZone": "UTC", "hours": NINE_TO_FIVE, "holidayCountry": "NYSE"}},
        "calendar.holidayCountry",
        id="a market, no country",
    ),
    pytest.param(
        {
            "calendar": {
                "timeZone": "UTC",
                "hours": NINE_TO_FIVE,
                "holidayCountry": "DE",
                "holidaySubdivision": "ZZ",
            }
        },
        "calendar.holidayCountry",
        id="an unknown region",
    ),
    pytest.param(
        {"calendar": {"timeZone": "UTC", "hours": {}}},
        "calendar.hours",
        id="a week without working time",
    ),
    pytest.param({"default": "yes"}, "default"),
    pytest.param({"colour": "red"}, "colour", id="an unknown field"),
]


@pytest.mark.parametrize(("change", "field"), BAD_DOCUMENTS)
async def test_a_bad_new_policy_is_a_400_naming_the_field_and_nothing_is_created(
    client, change, field
):
    resp = await client.post(POLICIES, json={"name": "Bad", **change}, headers=ADMIN_HEADERS)
    assert resp.status == 400
    answer = await resp.json()
    assert answer["error"] == "Validation failed" and answer["hint"]
    assert field in answer["fields"], answer["fields"]
    assert [p["name"] for p in await policies(client)] == ["Default"]


@pytest.mark.parametrize(("change", "field"), BAD_DOCUMENTS)
async def test_a_bad_edit_is_a_400_naming_the_field_and_the_policy_is_unchanged(
    client, change, field
):
    eu = await create_policy(client, EU_HOURS)
    resp = await client.patch(f"{POLICIES}/{eu['id']}", json=change, headers=ADMIN_HEADERS)
    assert resp.status == 400
    assert field in (await resp.json())["fields"]
    after = await (await client.get(f"{POLICIES}/{eu['id']}", headers=ADMIN_HEADERS)).json()
    assert after == eu


async def test_whole_minutes_may_be_written_as_30_0(client):
    """JSON Schema's integer: 30.0 is 30 (what the OpenAPI document promises)."""
    created = await create_policy(
        client, {"name": "Floats", "targets": {"high": {"response": 60.0}}, "warnMinutes": 5.0}
    )
    assert created["targets"]["high"]["response"] == 60 and created["warnMinutes"] == 5
    resp = await client.post(
        POLICIES, json={"name": "Halves", "warnMinutes": 5.5}, headers=ADMIN_HEADERS
    )
    assert resp.status == 400 and "warnMinutes" in (await resp.json())["fields"]


async def test_a_policy_needs_a_name_and_an_edit_needs_a_field(client):
    nameless = await client.post(POLICIES, json={"targets": {}}, headers=ADMIN_HEADERS)
    assert nameless.status == 400 and "name" in (await nameless.json())["fields"]
    empty = await client.patch(f"{POLICIES}/1", json={}, headers=ADMIN_HEADERS)
    assert empty.status == 400 and "body" in (await empty.json())["fields"]


# -- edits recompute the open tickets -------------------------------------------------------


async def test_editing_targets_recomputes_the_open_tickets_due_times_from_their_creation(
    client, db, clock
):
    key = await make_key(client)
    open_ticket = await create_ticket(client, key, priority="urgent")
    closed_ticket = await create_ticket(client, key, priority="urgent")
    # 24x7: 30 minutes and 4 hours after 15:50.
    assert await stored(db, open_ticket["id"]) == (utc(6, 16, 20), utc(6, 19, 50), 1)
    closed = await client.patch(
        f"/api/v1/desk/tickets/{closed_ticket['id']}",
        json={"status": "closed"},
        headers=bearer(key),
    )
    assert closed.status == 200
    closed_before = await stored(db, closed_ticket["id"])

    clock.now = utc(7, 12)  # a day later: due times still count from creation
    resp = await client.patch(
        f"{POLICIES}/1",
        json={"targets": {"critical": {"response": 60, "resolution": 600}}},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 200
    answer = await resp.json()
    assert answer["targets"]["critical"] == {"response": 60, "resolution": 600}
    assert answer["recomputedTickets"] == 1
    assert await stored(db, open_ticket["id"]) == (utc(6, 16, 50), utc(7, 1, 50), 1)
    assert await stored(db, closed_ticket["id"]) == closed_before  # closed: left alone


async def test_a_calendar_and_then_a_holiday_move_the_due_times_into_business_hours(client, db):
    """Seed 003's critical ticket at 16:50 on a Friday, 9-17 Mon-Fri in Berlin: 10 minutes
    that Friday, the rest on Monday; with that Monday a holiday, on Tuesday."""
    eu = await create_policy(client, EU_HOURS)
    await add_product(client, "my-saas-app")
    resp = await client.patch(
        "/api/admin/products/my-saas-app", json={"slaPolicy": "eu hours"}, headers=ADMIN_HEADERS
    )
    assert resp.status == 200 and (await resp.json())["slaPolicy"] == "EU hours"
    key = await make_key(client)
    ticket = await create_ticket(client, key, priority="urgent", productSlug="my-saas-app")
    # Monday 9 March, 09:20 and 12:50 in Berlin.
    assert await stored(db, ticket["id"]) == (utc(9, 8, 20), utc(9, 11, 50), eu["id"])

    calendar = {**EU_HOURS["calendar"], "holidays": ["2026-03-09"]}
    edited = await client.patch(
        f"{POLICIES}/{eu['id']}", json={"calendar": calendar}, headers=ADMIN_HEADERS
    )
    assert edited.status == 200 and (await edited.json())["recomputedTickets"] == 1
    # Tuesday 10 March, 09:20 and 12:50 in Berlin.
    assert await stored(db, ticket["id"]) == (utc(10, 8, 20), utc(10, 11, 50), eu["id"])
    [listed] = [p for p in await policies(client) if p["name"] == "EU hours"]
    assert listed["products"] == ["my-saas-app"]


async def test_a_rename_alone_recomputes_nothing(client):
    key = await make_key(client)
    await create_ticket(client, key)
    resp = await client.patch(f"{POLICIES}/1", json={"name": "Standard"}, headers=ADMIN_HEADERS)
    assert resp.status == 200
    assert (await resp.json())["recomputedTickets"] == 0


# -- products: a policy for their new tickets ------------------------------------------------


async def test_a_products_policy_governs_its_new_tickets_only(client, db):
    eu = await create_policy(client, EU_HOURS)
    product = await add_product(client, "my-saas-app")
    assert product["slaPolicy"] is None  # the default
    key = await make_key(client)
    before = await create_ticket(client, key, priority="urgent", productSlug="my-saas-app")
    await client.patch(
        "/api/admin/products/my-saas-app", json={"slaPolicy": "EU hours"}, headers=ADMIN_HEADERS
    )
    after = await create_ticket(client, key, priority="urgent", productSlug="my-saas-app")
    assert await stored(db, before["id"]) == (utc(6, 16, 20), utc(6, 19, 50), 1)
    assert await stored(db, after["id"]) == (utc(9, 8, 20), utc(9, 11, 50), eu["id"])
    back = await client.patch(
        "/api/admin/products/my-saas-app", json={"slaPolicy": None}, headers=ADMIN_HEADERS
    )
    assert (await back.json())["slaPolicy"] is None
    assert await stored(db, after["id"]) == (utc(9, 8, 20), utc(9, 11, 50), eu["id"])


async def test_an_unknown_policy_for_a_product_is_a_400_and_changes_nothing(client, db):
    await add_product(client, "my-saas-app")
    resp = await client.patch(
        "/api/admin/products/my-saas-app",
        json={"slaPolicy": "Gold", "name": "Renamed"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 400
    assert "slaPolicy" in (await resp.json())["fields"]
    async with db.session() as session:
        product = await session.scalar(select(Product))
        assert product.name == "my-saas-app" and product.sla_policy_id is None


# -- deleting, and the default ---------------------------------------------------------------


async def test_deleting_a_policy_moves_its_products_and_tickets_to_the_default(client, db, clock):
    eu = await create_policy(client, EU_HOURS)
    await add_product(client, "my-saas-app")
    await client.patch(
        "/api/admin/products/my-saas-app", json={"slaPolicy": "EU hours"}, headers=ADMIN_HEADERS
    )
    key = await make_key(client)
    still_open = await create_ticket(client, key, priority="urgent", productSlug="my-saas-app")
    closed = await create_ticket(client, key, priority="urgent", productSlug="my-saas-app")
    await client.patch(
        f"/api/v1/desk/tickets/{closed['id']}", json={"status": "closed"}, headers=bearer(key)
    )
    closed_due = (await stored(db, closed["id"]))[:2]

    clock.now = utc(8, 10)
    resp = await client.delete(f"{POLICIES}/{eu['id']}", headers=ADMIN_HEADERS)
    assert resp.status == 200
    answer = await resp.json()
    assert answer["movedProducts"] == 1 and answer["movedTickets"] == 2
    assert [p["name"] for p in await policies(client)] == ["Default"]
    listing = await (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).json()
    assert listing["products"][0]["slaPolicy"] is None
    # The open ticket: the default's 24x7 times, from its creation on Friday at 15:50 UTC.
    assert await stored(db, still_open["id"]) == (utc(6, 16, 20), utc(6, 19, 50), 1)
    # The closed one follows the default too, its stored times kept.
    assert await stored(db, closed["id"]) == (*closed_due, None)
    gone = await client.get(f"{POLICIES}/{eu['id']}", headers=ADMIN_HEADERS)
    assert gone.status == 404


async def test_the_default_policy_cannot_be_deleted(client):
    resp = await client.delete(f"{POLICIES}/1", headers=ADMIN_HEADERS)
    assert resp.status == 400
    answer = await resp.json()
    assert "make another policy the default first" in answer["hint"]
    assert "default" in answer["fields"]
    assert [p["name"] for p in await policies(client)] == ["Default"]


async def test_another_policy_is_made_the_default_and_the_old_one_can_then_go(client, db):
    eu = await create_policy(client, EU_HOURS)
    refused = await client.patch(f"{POLICIES}/1", json={"default": False}, headers=ADMIN_HEADERS)
    assert refused.status == 400 and "default" in (await refused.json())["fields"]
    made = await client.patch(
        f"{POLICIES}/{eu['id']}", json={"default": True}, headers=ADMIN_HEADERS
    )
    assert made.status == 200 and (await made.json())["default"] is True
    assert [(p["name"], p["default"]) for p in await policies(client)] == [
        ("Default", False),
        ("EU hours", True),
    ]
    # New tickets of products without a policy now follow EU hours.
    key = await make_key(client)
    ticket = await create_ticket(client, key, priority="urgent")
    assert await stored(db, ticket["id"]) == (utc(9, 8, 20), utc(9, 11, 50), eu["id"])
    assert (await client.delete(f"{POLICIES}/1", headers=ADMIN_HEADERS)).status == 200
    async with db.session() as session:
        assert (await session.scalars(select(SlaPolicy.name))).all() == ["EU hours"]


async def test_a_new_policy_can_be_the_default_at_once(client):
    created = await create_policy(client, {"name": "Round the clock", "default": True})
    assert created["default"] is True
    assert [p["default"] for p in await policies(client)] == [False, True]


# -- the desk: a ticket's policy -------------------------------------------------------------


async def test_staff_change_a_tickets_policy_and_its_due_times_follow(client, db, clock):
    eu = await create_policy(client, EU_HOURS)
    key = await make_key(client)
    ticket = await create_ticket(client, key, priority="urgent")
    clock.now = utc(6, 16)
    resp = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}", json={"slaPolicy": "EU HOURS"}, headers=bearer(key)
    )
    assert resp.status == 200, await resp.text()
    assert await stored(db, ticket["id"]) == (utc(9, 8, 20), utc(9, 11, 50), eu["id"])
    # A priority change afterwards recomputes on the ticket's new policy: high is 2 h / 8 h.
    await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}", json={"priority": "high"}, headers=bearer(key)
    )
    assert await stored(db, ticket["id"]) == (utc(9, 9, 50), utc(9, 15, 50), eu["id"])


async def test_an_unknown_ticket_policy_is_a_400_and_changes_nothing(client, db):
    key = await make_key(client)
    ticket = await create_ticket(client, key, priority="urgent")
    before = await stored(db, ticket["id"])
    resp = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}",
        json={"slaPolicy": "Gold", "priority": "low", "status": "pending"},
        headers=bearer(key),
    )
    assert resp.status == 400
    answer = await resp.json()
    assert set(answer["fields"]) == {"slaPolicy"}
    assert answer["error"].startswith("No SLA policy is named 'Gold'")
    shown = await (
        await client.get(f"/api/v1/desk/tickets/{ticket['id']}", headers=bearer(key))
    ).json()
    assert shown["priority"] == "urgent" and shown["status"] == "open"
    assert await stored(db, ticket["id"]) == before
    blank = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}", json={"slaPolicy": ""}, headers=bearer(key)
    )
    assert blank.status == 400 and "slaPolicy" in (await blank.json())["fields"]


async def test_critical_stays_an_invalid_desk_priority(client):
    """Seed 001's words on the desk: ``urgent``; seed 003's ``critical`` is refused there."""
    key = await make_key(client)
    ticket = await create_ticket(client, key)
    resp = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}", json={"priority": "critical"}, headers=bearer(key)
    )
    assert resp.status == 400 and (await resp.json())["error"] == "Invalid priority"


async def test_staff_list_the_policies_read_only(client):
    await create_policy(client, EU_HOURS)
    key = await make_key(client)
    resp = await client.get("/api/v1/desk/sla/policies", headers=bearer(key))
    assert resp.status == 200
    listed = (await resp.json())["policies"]
    assert [p["name"] for p in listed] == ["Default", "EU hours"]
    assert all("products" not in p for p in listed)  # which products: for admins
    assert (await client.get("/api/v1/desk/sla/policies")).status == 401
