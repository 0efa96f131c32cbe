"""SLA clocks through the desk API, with the app's clock under the test's control (no sleeps):
each rule of issue 15 with its due time written out by hand, and the breach and dueWithin
lists on seed 003's path and under /api/v1/desk."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from storage.models import Product, SlaPolicy
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import add_product, bearer, make_key

UTC = dt.UTC
TICKETS = "/api/v1/desk/tickets"
BREACHES = "/api/v1/desk/sla/breaches"
SEED_BREACHES = "/api/sla/breaches"
NINE_TO_FIVE = {
    day: [["09:00", "17:00"]] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


class Clock:
    """The app's clock: a fixed instant the test moves."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, **local) -> None:
        self.at = dt.datetime(**local, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 12, 4, 15, 50, tzinfo=UTC))


@pytest.fixture
async def desk(db, aiohttp_client, clock):
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = clock
    client = await aiohttp_client(app)
    key = await make_key(client)
    return client, bearer(key)


async def business_hours_product(db, client, slug: str, calendar: dict) -> None:
    """A product whose tickets run on a 'Business hours' policy with this calendar."""
    await add_product(client, slug)
    async with db.begin() as session:
        policy = SlaPolicy(
            name=f"Business hours {slug}",
            is_default=False,
            targets={},
            calendar=calendar,
            response_ends="comment_or_status",
            warn_minutes=30,
        )
        session.add(policy)
        await session.flush()
        await session.execute(
            update(Product).where(Product.slug == slug).values(sla_policy_id=policy.id)
        )


async def new_ticket(client, headers, **fields) -> dict:
    body = {"subject": "VPN down", "body": "No tunnel", "email": "c@example.com", **fields}
    resp = await client.post(TICKETS, json=body, headers=headers)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def show(client, headers, ticket: dict) -> dict:
    resp = await client.get(f"{TICKETS}/{ticket['id']}", headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def patch(client, headers, ticket: dict, **changes) -> dict:
    resp = await client.patch(f"{TICKETS}/{ticket['id']}", json=changes, headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


def z(text: str) -> str:
    """A UTC time as the API writes it."""
    return dt.datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def test_critical_at_1650_on_a_friday_falls_due_on_monday_morning_business_time(
    db, desk, clock
):
    client, headers = desk
    await business_hours_product(
        db, client, "vpn", {"timeZone": "Europe/Berlin", "hours": NINE_TO_FIVE, "holidays": []}
    )
    clock.set(year=2026, month=12, day=4, hour=15, minute=50)  # Friday 16:50 in Berlin (CET)
    ticket = await new_ticket(client, headers, priority="urgent", productSlug="vpn")
    assert ticket["sla_policy"] == "Business hours vpn"
    # 10 minutes on Friday, then Monday 09:00 + 20 (response: 30) and + 230 (resolution: 240).
    assert ticket["first_response_due_at"] == z("2026-12-07T08:20:00")
    assert ticket["due_at"] == z("2026-12-07T11:50:00")
    assert ticket["sla"]["response"]["state"] == "running"


async def test_a_holiday_on_monday_moves_the_due_time_to_tuesday(db, desk, clock):
    client, headers = desk
    calendar = {"timeZone": "Europe/Berlin", "hours": NINE_TO_FIVE, "holidays": ["2026-12-07"]}
    await business_hours_product(db, client, "vpn", calendar)
    clock.set(year=2026, month=12, day=4, hour=15, minute=50)
    ticket = await new_ticket(client, headers, priority="urgent", productSlug="vpn")
    assert ticket["first_response_due_at"] == z("2026-12-08T08:20:00")


async def test_the_spring_clock_change_in_berlin_keeps_business_hours_local(db, desk, clock):
    client, headers = desk
    await business_hours_product(
        db, client, "vpn", {"timeZone": "Europe/Berlin", "hours": NINE_TO_FIVE, "holidays": []}
    )
    # Friday 27 March 2026, 16:50 CET; clocks go forward on Sunday the 29th (CEST, UTC+2).
    clock.set(year=2026, month=3, day=27, hour=15, minute=50)
    ticket = await new_ticket(client, headers, priority="urgent", productSlug="vpn")
    assert ticket["first_response_due_at"] == z("2026-03-30T07:20:00")  # 09:20 CEST


async def test_the_autumn_clock_change_in_new_york(db, desk, clock):
    client, headers = desk
    await business_hours_product(
        db, client, "vpn", {"timeZone": "America/New_York", "hours": NINE_TO_FIVE, "holidays": []}
    )
    # Friday 30 October 2026, 16:50 EDT (UTC-4); clocks go back on Sunday 1 November (EST, UTC-5).
    clock.set(year=2026, month=10, day=30, hour=20, minute=50)
    ticket = await new_ticket(client, headers, priority="high", productSlug="vpn")
    # Response 120: 10 on Friday, 110 on Monday from 09:00 EST -> 10:50 EST = 15:50 UTC.
    assert ticket["first_response_due_at"] == z("2026-11-02T15:50:00")


async def test_a_pending_pause_across_a_night_shifts_the_due_time_by_exactly_the_pause(desk, clock):
    client, headers = desk
    clock.set(year=2026, month=12, day=1, hour=10, minute=0)
    ticket = await new_ticket(client, headers, priority="high")  # 24x7: 2 h / 8 h
    assert ticket["due_at"] == z("2026-12-01T18:00:00")
    clock.set(year=2026, month=12, day=1, hour=11, minute=0)
    paused = await patch(client, headers, ticket, status="pending")
    # Staff changing the status is the response (seed 003): met, an hour early.
    assert paused["sla"]["response"]["state"] == "met"
    assert paused["sla"]["resolution"]["state"] == "paused"
    clock.set(year=2026, month=12, day=2, hour=8, minute=0)  # 21 hours later
    resumed = await patch(client, headers, ticket, status="open")
    assert resumed["due_at"] == z("2026-12-02T15:00:00")  # 18:00 + 21 h
    assert resumed["sla"]["pauses"] == [
        {"from": z("2026-12-01T11:00:00"), "until": z("2026-12-02T08:00:00")}
    ]
    assert resumed["sla"]["resolution"]["usedMinutes"] == 60.0
    assert resumed["sla"]["resolution"]["leftMinutes"] == 420.0


async def test_a_priority_change_recomputes_the_due_times_from_creation(desk, clock):
    client, headers = desk
    clock.set(year=2026, month=12, day=1, hour=10, minute=0)
    ticket = await new_ticket(client, headers, priority="low")
    assert ticket["due_at"] == z("2026-12-08T10:00:00")  # 7 days
    clock.set(year=2026, month=12, day=1, hour=10, minute=10)
    urgent = await patch(client, headers, ticket, priority="urgent")
    assert urgent["first_response_due_at"] == z("2026-12-01T10:30:00")
    assert urgent["due_at"] == z("2026-12-01T14:00:00")


async def test_a_reopen_starts_a_new_resolution_cycle_and_keeps_the_first(desk, clock):
    client, headers = desk
    clock.set(year=2026, month=12, day=1, hour=10, minute=0)
    ticket = await new_ticket(client, headers, priority="urgent")  # 4 h
    clock.set(year=2026, month=12, day=1, hour=16, minute=0)  # 2 h late
    resolved = await patch(client, headers, ticket, status="resolved")
    assert resolved["sla"]["resolution"]["state"] == "breached"
    assert resolved["sla"]["resolution"]["overdueMinutes"] == 120.0
    clock.set(year=2026, month=12, day=2, hour=9, minute=0)
    reopened = await patch(client, headers, ticket, status="open")
    assert reopened["sla"]["resolution"]["cycle"] == 2
    assert reopened["sla"]["resolution"]["state"] == "running"
    assert reopened["due_at"] == z("2026-12-02T13:00:00")
    assert reopened["sla"]["earlierCycles"] == [
        {
            "startedAt": z("2026-12-01T10:00:00"),
            "endedAt": z("2026-12-01T16:00:00"),
            "dueAt": z("2026-12-01T14:00:00"),
            "breached": True,
        }
    ]


async def test_an_internal_note_is_no_response_but_a_public_comment_is(desk, clock):
    client, headers = desk
    clock.set(year=2026, month=12, day=1, hour=10, minute=0)
    ticket = await new_ticket(client, headers, priority="urgent")
    clock.set(year=2026, month=12, day=1, hour=10, minute=5)
    note = {"body": "checking logs", "internal": True}
    assert (
        await client.post(f"{TICKETS}/{ticket['id']}/comments", json=note, headers=headers)
    ).status == 201
    assert (await show(client, headers, ticket))["sla"]["response"]["state"] == "running"
    clock.set(year=2026, month=12, day=1, hour=10, minute=20)
    reply = {"body": "We are on it", "internal": False}
    assert (
        await client.post(f"{TICKETS}/{ticket['id']}/comments", json=reply, headers=headers)
    ).status == 201
    clock.set(year=2026, month=12, day=1, hour=12, minute=0)
    shown = await show(client, headers, ticket)
    assert shown["sla"]["response"]["state"] == "met"
    assert shown["sla"]["response"]["endedAt"] == z("2026-12-01T10:20:00")


async def test_breaches_say_which_promise_broke_and_by_how_much_and_due_within_warns(desk, clock):
    client, headers = desk
    clock.set(year=2026, month=12, day=1, hour=10, minute=0)
    late = await new_ticket(client, headers, priority="urgent", subject="late")  # due 10:30 / 14:00
    clock.set(year=2026, month=12, day=1, hour=10, minute=50)
    soon = await new_ticket(client, headers, priority="urgent", subject="soon")  # due 11:20
    calm = await new_ticket(client, headers, priority="low", subject="calm")
    clock.set(year=2026, month=12, day=1, hour=11, minute=0)

    for path in (BREACHES, SEED_BREACHES):
        resp = await client.get(path, headers=headers)
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        assert [b["id"] for b in page["breaches"]] == [late["id"]]
        [entry] = page["breaches"]
        assert entry["violated"] == "response"
        assert entry["dueAt"] == z("2026-12-01T10:30:00")
        assert entry["overdueMinutes"] == 30.0
        assert entry["policy"] == "Default"
        assert page["hasMore"] is False

    resp = await client.get(BREACHES, params={"dueWithin": "30m"}, headers=headers)
    page = await resp.json()
    assert [(b["id"], b["atRisk"]) for b in page["breaches"]] == [(soon["id"], "response")]
    assert page["breaches"][0]["leftMinutes"] == 20.0
    resp = await client.get(BREACHES, params={"dueWithin": "8d"}, headers=headers)
    ids = [b["id"] for b in (await resp.json())["breaches"]]
    # Soonest first, each ticket once: soon (11:20), late's resolution (14:00), calm (next day).
    assert ids == [soon["id"], late["id"], calm["id"]]

    resp = await client.get(BREACHES, params={"target": "resolve"}, headers=headers)
    assert (await resp.json())["breaches"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ({"target": "resolution-ish"}, "target"),
        ({"priority": "critical"}, "priority"),
        ({"dueWithin": "soon"}, "dueWithin"),
        ({"dueWithin": "0m"}, "dueWithin"),
        ({"since": "yesterday"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_list_query_is_a_400_naming_the_field(desk, query, field):
    client, headers = desk
    resp = await client.get(BREACHES, params=query, headers=headers)
    assert resp.status == 400
    body = await resp.json()
    assert field in body["fields"] and body["error"] and body["hint"]


async def test_the_lists_need_a_desk_key_and_a_bad_cursor_is_a_400(desk):
    client, headers = desk
    assert (await client.get(SEED_BREACHES)).status == 401
    assert (await client.get(BREACHES)).status == 401
    resp = await client.get(BREACHES, params={"cursor": "nope"}, headers=headers)
    assert resp.status == 400 and (await resp.json())["error"] == "Invalid cursor"
    resp = await client.get(BREACHES, params={"productSlug": "nothing"}, headers=headers)
    assert resp.status == 404
