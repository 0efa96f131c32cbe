"""The workspace's SLA breaches (issue 19, item 4; seed 003's Tickets → SLA Breaches), with the
app's clock set by the test: the tickets of the person's products whose promise is broken are
listed (linked to their workspace page), those on time and those of other products are not;
"due within" lists what is about to breach; filters and keyset pages work; a bad query is a
4xx page with the reason, never a 500."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.deskkit import bearer, make_key
from tests.test_desk_ticket_page import person
from tests.test_web_admin_breaches import Clock  # 10:00 on 1 Dec 2026 until moved

UTC = dt.UTC
LISTED = re.compile(r'<a href="/desk/tickets/(TK-\d+)">')


@pytest.fixture
async def desk(db, aiohttp_client):
    """At 11:00: mine's "Late" and "Later" (urgent, response due 10:30) breached, other's
    "Elsewhere" too; mine's "Soon" (due 11:20) and "Calm" (low) not yet."""
    clock = Clock()
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = clock
    client = await aiohttp_client(app)
    for slug in ("mine", "other"):
        resp = await client.post(
            "/api/admin/products", json={"slug": slug, "repo": f"o/{slug}"}, headers=ADMIN_HEADERS
        )
        assert resp.status == 201
    headers = bearer(await make_key(client))

    async def ticket(subject: str, priority: str, product: str = "mine") -> str:
        body = {
            "subject": subject,
            "body": "b",
            "email": "c@example.com",
            "priority": priority,
            "productSlug": product,
        }
        resp = await client.post("/api/v1/desk/tickets", json=body, headers=headers)
        assert resp.status == 201, await resp.text()
        return (await resp.json())["publicId"]

    ids = {
        "late": await ticket("Late", "urgent"),
        "later": await ticket("Later", "urgent"),
        "elsewhere": await ticket("Elsewhere", "urgent", "other"),
    }
    clock.at = dt.datetime(2026, 12, 1, 10, 50, tzinfo=UTC)
    ids["soon"] = await ticket("Soon", "urgent")
    ids["calm"] = await ticket("Calm", "low")
    clock.at = dt.datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    await person(client, "al@support.test", "Al", "viewer", products=["mine"])
    return client, ids


async def test_breached_tickets_of_the_persons_products_are_listed_and_no_others(desk):
    client, ids = desk
    resp = await client.get("/desk/breaches")
    page = await resp.text()
    assert resp.status == 200 and "<h1>SLA breaches</h1>" in page
    assert LISTED.findall(page) == [ids["late"], ids["later"]]
    assert "overdue by 30 min" in page and "Response" in page
    # The filter offers the person's products only.
    assert '<option value="mine">' in page and 'value="other"' not in page


async def test_due_within_lists_what_is_about_to_breach(desk):
    client, ids = desk
    page = await (await client.get("/desk/breaches?dueWithin=30m")).text()
    assert LISTED.findall(page) == [ids["soon"]]
    assert "About to breach" in page and "20 min left" in page


async def test_the_clock_decides_what_is_breached(desk):
    client, _ = desk
    client.app[CLOCK].at = dt.datetime(2026, 12, 1, 10, 20, tzinfo=UTC)
    assert LISTED.findall(await (await client.get("/desk/breaches")).text()) == []


async def test_filters_narrow_the_list(desk):
    client, ids = desk
    low = await (await client.get("/desk/breaches?priority=low&target=")).text()
    assert LISTED.findall(low) == []
    mine = await (await client.get("/desk/breaches?productSlug=mine&target=response")).text()
    assert LISTED.findall(mine) == [ids["late"], ids["later"]]
    assert '<option value="mine" selected>' in mine


async def test_pages_follow_each_other_by_the_next_link(desk):
    client, ids = desk
    first = await (await client.get("/desk/breaches?limit=1")).text()
    assert LISTED.findall(first) == [ids["late"]]
    more = re.search(r'<a href="(/desk/breaches\?[^"]+)" rel="next">', first).group(1)
    second = await (await client.get(more.replace("&amp;", "&"))).text()
    assert LISTED.findall(second) == [ids["later"]] and 'rel="next"' not in second


@pytest.mark.parametrize(
    ("query", "status", "reason"),
    [
        ("dueWithin=soon", 400, "Invalid dueWithin"),
        ("priority=critical", 400, "Invalid priority"),
        ("cursor=not-a-cursor", 400, "Invalid cursor"),
        ("limit=0", 400, "Invalid limit"),
        ("productSlug=other", 404, "Product not found"),
    ],
)
async def test_a_bad_query_is_a_4xx_page_with_the_reason_and_the_form(desk, query, status, reason):
    client, _ = desk
    resp = await client.get(f"/desk/breaches?{query}")
    page = await resp.text()
    assert resp.status == status, page
    assert reason in page and '<form class="filters" method="get" action="/desk/breaches">' in page


async def test_the_breaches_page_needs_a_signed_in_person(desk):
    client, _ = desk
    client.session.cookie_jar.clear()
    resp = await client.get("/desk/breaches", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/desk/sign-in")
