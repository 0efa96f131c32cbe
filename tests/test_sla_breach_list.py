"""The breach list and the dueWithin list against a brute-force computation: 1,000 random
tickets with random priorities, public replies, internal notes, status changes (pauses,
resolutions, reopens) and priority changes, on a 24x7 policy and on a business-hours one.

The tickets are worked through the desk's own functions at chosen instants; the expected
lists are computed from the test's own record of what happened, with the rules
(``bot.rules.sla.evaluate``, itself checked against a minute-by-minute walk in
tests/test_sla_rules.py), never from the stored columns the lists read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from sqlalchemy import select, update

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from bot.rules import sla
from bot.rules.sla_policy import policy_of
from bot.tickets import desk as desk_tickets
from bot.tickets.apikeys import KeyScope
from bot.tickets.intake import open_ticket
from storage.models import Product, SlaPolicy, Ticket
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import add_product, bearer, make_key

UTC = dt.UTC
START = dt.datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # a Friday morning
NOW = START + dt.timedelta(days=4, hours=3, minutes=17)
TICKETS = 1000
OFFICE = {
    "timeZone": "Europe/Berlin",
    "hours": {
        d: [["09:00", "12:30"], ["13:30", "17:00"]]
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
    },
    "holidays": ["2026-11-30"],
}
PRIORITIES = ["low", "medium", "high", "urgent"]


@dataclasses.dataclass
class Record:
    """What the test did to one ticket, as the oracle reads it."""

    product: str
    created_at: dt.datetime
    priority: str
    first_comment: dt.datetime | None = None
    first_status: dt.datetime | None = None
    status: str = "open"
    pauses: list[tuple[dt.datetime, dt.datetime]] = dataclasses.field(default_factory=list)
    paused_since: dt.datetime | None = None
    cycles: list[sla.Cycle] = dataclasses.field(default_factory=list)
    cycle_start: dt.datetime | None = None
    cycle_end: dt.datetime | None = None

    def change_status(self, new: str, at: dt.datetime) -> None:
        if new == self.status:
            return
        if self.first_status is None:
            self.first_status = at
        if self.status == "pending":
            assert self.paused_since is not None
            if at > self.paused_since:
                self.pauses.append((self.paused_since, at))
            self.paused_since = None
        if new == "pending":
            self.paused_since = at
        finished = ("resolved", "closed")
        if new in finished and self.cycle_end is None:
            self.cycle_end = at
        elif new not in finished and self.cycle_end is not None:
            self.cycles.append(sla.Cycle(self.cycle_start or self.created_at, self.cycle_end))
            self.cycle_start, self.cycle_end = at, None
        self.status = new

    def facts(self) -> sla.Facts:
        current = sla.Cycle(self.cycle_start or self.created_at, self.cycle_end)
        return sla.Facts(
            created_at=self.created_at,
            priority=self.priority,
            first_staff_comment_at=self.first_comment,
            first_staff_status_change_at=self.first_status,
            pauses=tuple(self.pauses),
            paused_since=self.paused_since,
            cycles=(*self.cycles, current),
        )


POLICIES = {
    "always": policy_of("Default", {}, None, "comment_or_status", 30),
    "office": policy_of("Office", {}, OFFICE, "comment", 30),
}


async def work_tickets(db, rng: random.Random) -> dict[int, Record]:
    """Open and work TICKETS tickets; returns what was done to each, by ticket id."""
    scope = KeyScope(1, "key_brute", "agent@support.com", False, None)
    records: dict[int, Record] = {}
    async with db.begin() as session:
        products = {p.slug: p for p in await session.scalars(select(Product))}
        for _ in range(TICKETS):
            slug = rng.choice(["always", "office"])
            created = START + dt.timedelta(minutes=rng.randrange(0, 4 * 24 * 60))
            record = Record(slug, created, rng.choice(PRIORITIES))
            opened = await open_ticket(
                session,
                product=products[slug],
                subject="Printer on fire",
                body="Smoke",
                email="c@example.com",
                priority=record.priority,
                created_by=scope.public_id,
                now=created,
            )
            ticket = opened.ticket
            records[ticket.id] = record
            at = created
            for _ in range(rng.randrange(0, 6)):
                at += dt.timedelta(minutes=rng.randrange(1, 24 * 60))
                if at >= NOW:
                    break
                action = rng.choice(["note", "reply", "status", "status", "priority"])
                if action in ("note", "reply"):
                    internal = action == "note"
                    await desk_tickets.add_comment(session, scope, ticket, "x", internal, at)
                    if not internal and record.first_comment is None:
                        record.first_comment = at
                elif action == "status":
                    new = rng.choice(["open", "pending", "pending", "resolved", "closed"])
                    await desk_tickets.update_ticket(session, scope, ticket, {"status": new}, at)
                    record.change_status(new, at)
                else:
                    record.priority = rng.choice(PRIORITIES)
                    changes = {"priority": record.priority}
                    await desk_tickets.update_ticket(session, scope, ticket, changes, at)
    return records


def expected_breaches(records: dict[int, Record], target: str | None) -> list[tuple[int, str]]:
    found = []
    for ticket_id, record in records.items():
        response, resolution = sla.evaluate(POLICIES[record.product], record.facts(), NOW)
        broken = {
            None: [c for c in (response, resolution) if c.breached],
            "response": [response] if response.breached else [],
            "resolve": [resolution] if resolution.breached else [],
            "both": [response, resolution] if response.breached and resolution.breached else [],
        }[target]
        if broken:
            key = response.due_at if target == "both" else min(c.due_at for c in broken)
            found.append((key, ticket_id, sla.violated(response, resolution)))
    return [(ticket_id, violated) for _, ticket_id, violated in sorted(found)]


def expected_due_within(records: dict[int, Record], until: dt.datetime) -> list[int]:
    found = []
    for ticket_id, record in records.items():
        clocks = sla.evaluate(POLICIES[record.product], record.facts(), NOW)
        dues = [
            c.due_at for c in clocks if c.state is sla.State.RUNNING and NOW < c.due_at <= until
        ]
        if dues:
            found.append((min(dues), ticket_id))
    return [ticket_id for _, ticket_id in sorted(found)]


@pytest.fixture
async def worked(db, aiohttp_client):
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = lambda: NOW
    client = await aiohttp_client(app)
    headers = bearer(await make_key(client))
    for slug in POLICIES:
        await add_product(client, slug)
    async with db.begin() as session:
        office = SlaPolicy(
            name="Office",
            is_default=False,
            targets={},
            calendar=OFFICE,
            response_ends="comment",
            warn_minutes=30,
        )
        session.add(office)
        await session.flush()
        await session.execute(
            update(Product).where(Product.slug == "office").values(sla_policy_id=office.id)
        )
    records = await work_tickets(db, random.Random(15))
    return client, headers, records


async def walk(client, headers, **params) -> list[dict]:
    """Every page of the list, following nextCursor."""
    entries: list[dict] = []
    cursor = None
    while True:
        query = {**params, "limit": "37", **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/api/v1/desk/sla/breaches", params=query, headers=headers)
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        entries += page["breaches"]
        if not page["hasMore"]:
            return entries
        cursor = page["nextCursor"]


@pytest.mark.slow
async def test_the_lists_match_a_brute_force_computation_over_1000_random_tickets(db, worked):
    client, headers, records = worked
    by_public = {f"TK-{i:05d}": i for i in records}
    async with db.begin() as session:
        stored = await session.scalar(select(Ticket).limit(1))
        assert stored is not None

    for target in (None, "response", "resolve", "both"):
        params = {"target": target} if target else {}
        got = [
            (by_public[e["publicId"]], e["violated"]) for e in await walk(client, headers, **params)
        ]
        want = expected_breaches(records, target)
        assert got == want, f"target={target}"
    assert len(expected_breaches(records, None)) > 100  # the data does exercise the list

    for window in ("45m", "6h", "3d"):
        amount, unit = int(window[:-1]), window[-1]
        until = NOW + dt.timedelta(minutes=amount * {"m": 1, "h": 60, "d": 1440}[unit])
        got_ids = [by_public[e["publicId"]] for e in await walk(client, headers, dueWithin=window)]
        assert got_ids == expected_due_within(records, until), f"dueWithin={window}"
    assert expected_due_within(records, NOW + dt.timedelta(days=3))  # not vacuous

    urgent = [by_public[e["publicId"]] for e in await walk(client, headers, priority="urgent")]
    assert urgent == [
        i for i, _ in expected_breaches(records, None) if records[i].priority == "urgent"
    ]
