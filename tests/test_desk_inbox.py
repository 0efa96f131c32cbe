"""The workspace inbox (``/desk``, issue 19 item 2), server side: each saved view lists exactly
its tickets (mine, unassigned, waiting on customer, due soon and breached at an injected
clock, by product, by stage), the filters and search narrow it, paging keeps the view both
ways, each row shows its SLA clock and stage badge, a page costs the same statements for
many rows as for few, the changes endpoint answers the page's tickets with their stamps, a
person scoped to one product never sees another's tickets anywhere, and bad input is a 400
page (never a 500)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event

from bot.app import create_app
from bot.appkeys import CLOCK
from bot.config import Settings
from bot.web import desk_inbox
from storage.reads import inbox_reads
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.deskkit import bearer
from tests.test_desk_ticket_page import person
from tests.test_storage_records import assert_selects
from tests.web_helpers import move_ticket

UTC = dt.UTC
T0 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
LATER = T0 + dt.timedelta(minutes=45)
ROW = re.compile(r'<tr data-ticket="(TK-\d+)" data-stamp="([0-9a-f]+)">(.*?)</tr>', re.S)
ADA = "ada@support.test"


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def client(db, aiohttp_client, clock):
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    app[CLOCK] = clock
    return await aiohttp_client(app)


async def intake(client) -> dict[str, str]:
    for slug in ("alpha", "beta"):
        resp = await client.post(
            "/api/admin/products",
            json={"slug": slug, "name": slug.title(), "repo": f"o/{slug}"},
            headers=ADMIN_HEADERS,
        )
        assert resp.status == 201, await resp.text()
    key = await client.post("/api/admin/keys", json={"name": "intake"}, headers=ADMIN_HEADERS)
    return bearer(await key.json())


async def new_ticket(client, headers, subject: str, priority: str, product: str) -> str:
    body = {
        "subject": subject,
        "body": "b",
        "email": "cy@example.com",
        "priority": priority,
        "productSlug": product,
    }
    resp = await client.post("/api/v1/desk/tickets", json=body, headers=headers)
    assert resp.status == 201, await resp.text()
    return (await resp.json())["publicId"]


async def patch(client, headers, public_id: str, **changes) -> None:
    resp = await client.patch(f"/api/v1/desk/tickets/{public_id}", json=changes, headers=headers)
    assert resp.status == 200, await resp.text()


@pytest.fixture
async def world(client, db, clock) -> dict[str, str]:
    """Six tickets opened at T0 (the default 24x7 policy); the page is read at T0 + 45 min:

    | ticket | product | priority | state                          | SLA at T0 + 45 min          |
    | t1     | alpha   | urgent   | open                           | response breached 15 min ago |
    | t2     | alpha   | high     | open                           | response due in 1 h 15 min  |
    | t3     | beta    | low      | open                           | due in 23 h 15 min          |
    | t4     | beta    | medium   | pending                        | paused                      |
    | t5     | alpha   | medium   | open, assigned to Ada          | due in 7 h 15 min           |
    | t6     | alpha   | low      | resolved, at MERGED            | none (both clocks stopped)  |
    """
    headers = await intake(client)
    t = {
        "t1": await new_ticket(client, headers, "Checkout crashes", "urgent", "alpha"),
        "t2": await new_ticket(client, headers, "Export is slow", "high", "alpha"),
        "t3": await new_ticket(client, headers, "Typo on pricing page", "low", "beta"),
        "t4": await new_ticket(client, headers, "Invoice missing", "medium", "beta"),
        "t5": await new_ticket(client, headers, "Login loops", "medium", "alpha"),
        "t6": await new_ticket(client, headers, "Old request", "low", "alpha"),
    }
    await patch(client, headers, t["t4"], status="pending")
    await patch(client, headers, t["t5"], assignee=ADA)
    await move_ticket(db, t["t6"], "ISSUE_CREATED", "PR_OPEN", "MERGED")
    await patch(client, headers, t["t6"], status="resolved")
    clock.at = LATER
    return t


async def listed(client, query: str = "") -> list[str]:
    resp = await client.get(f"/desk{query}")
    text = await resp.text()
    assert resp.status == 200, text
    return [m.group(1) for m in ROW.finditer(text)]


def rows_of(text: str) -> dict[str, str]:
    return {m.group(1): m.group(3) for m in ROW.finditer(text)}


def cells(row: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", row, re.S)


async def test_each_view_lists_exactly_its_tickets(client, world):
    t = world
    await person(client, ADA, "Ada", "agent")
    views = {
        "": ["t5", "t4", "t3", "t2", "t1"],  # all open, newest first
        "?view=mine": ["t5"],
        "?view=unassigned": ["t4", "t3", "t2", "t1"],
        "?view=pending": ["t4"],
        # t2's response at T0 + 2 h, then t1's resolution at T0 + 4 h (its response broke).
        "?view=due-soon": ["t2", "t1"],
        "?view=breached": ["t1"],
        "?view=product&product=alpha": ["t5", "t2", "t1"],
        "?view=product&product=beta": ["t4", "t3"],
        "?view=product": [],  # the choices, no list yet
        "?view=stage&stage=MERGED": ["t6"],
        "?view=stage&stage=RECEIVED": ["t5", "t4", "t3", "t2", "t1"],
        "?view=all": ["t6", "t5", "t4", "t3", "t2", "t1"],
    }
    for query, names in views.items():
        assert await listed(client, query) == [t[n] for n in names], query
    choose = await (await client.get("/desk?view=product")).text()
    assert "Choose a product above." in choose
    assert 'href="/desk?view=product&amp;product=beta"' in choose


async def test_the_views_are_links_and_the_current_one_is_marked(client, world):
    await person(client, ADA, "Ada", "agent")
    text = await (await client.get("/desk?view=breached")).text()
    nav = text[text.index('aria-label="Views"') : text.index("</nav>", text.index("Views"))]
    assert nav.count('aria-current="page"') == 1
    assert '<a href="/desk?view=breached" aria-current="page">Breached</a>' in nav
    for label in ("All open", "Mine", "Unassigned", "Due soon", "Waiting on customer"):
        assert f">{label}</a>" in nav
    default = await (await client.get("/desk")).text()
    assert '<a href="/desk" aria-current="page">All open</a>' in default


async def test_each_row_shows_its_sla_clock_and_stage_badge(client, world):
    t = world
    await person(client, ADA, "Ada", "agent")
    rows = rows_of(await (await client.get("/desk?view=all")).text())
    assert "breached</span> 15 min ago" in rows[t["t1"]]
    assert "due in 1 h 15 min" in rows[t["t2"]]
    assert "due in 23 h 15 min" in rows[t["t3"]]
    assert ">paused</span>" in rows[t["t4"]]
    assert "due in 7 h 15 min" in rows[t["t5"]] and ADA in rows[t["t5"]]
    assert cells(rows[t["t6"]])[6] == "—" and cells(rows[t["t6"]])[3] == "resolved"
    assert "Merged, stage 6 of 8" in rows[t["t6"]]
    assert rows[t["t6"]].count('<span class="on"></span>') == 6
    assert "Received, stage 1 of 8" in rows[t["t1"]] and "alpha" in rows[t["t1"]]
    # The clock is the request's: an hour on, t2 is still due, t1 is further overdue.
    client.app[CLOCK].at = LATER + dt.timedelta(hours=1)
    rows = rows_of(await (await client.get("/desk")).text())
    assert "breached</span> 1 h 15 min ago" in rows[t["t1"]]
    assert "due in 15 min" in rows[t["t2"]]


async def test_search_and_filters_narrow_the_view(client, world):
    t = world
    await person(client, ADA, "Ada", "agent")
    cases = {
        "?q=export": ["t2"],
        "?q=TK-00003": ["t3"],
        "?q=3": ["t3"],
        "?q=cy%40example.com": ["t5", "t4", "t3", "t2", "t1"],
        "?q=nothing+matches": [],
        "?priority=medium": ["t5", "t4"],
        "?status=resolved": ["t6"],  # the form's status replaces the view's "open"
        "?product=beta&priority=low": ["t3"],
        "?stage=MERGED&view=all": ["t6"],
        "?assignee=ada%40support.test": ["t5"],
        "?view=mine&status=resolved": [],
        "?view=unassigned&product=alpha": ["t2", "t1"],
        "?view=due-soon&priority=high": ["t2"],
        "?view=breached&product=beta": [],
        "?q=+&status=&priority=": ["t5", "t4", "t3", "t2", "t1"],  # blank is no filter
    }
    for query, names in cases.items():
        assert await listed(client, query) == [t[n] for n in names], query
    form = await (await client.get("/desk?q=export&priority=high")).text()
    assert 'name="q" type="search" value="export"' in form
    assert '<option value="high" selected>high</option>' in form
    for control in ("f-q", "f-status", "f-priority", "f-product", "f-stage", "f-assignee"):
        assert f'<label for="{control}">' in form
    sla_form = await (await client.get("/desk?view=breached")).text()
    assert 'id="f-q"' not in sla_form and 'id="f-priority"' in sla_form


async def test_paging_keeps_the_view_and_filters_older_and_newer(client, world, monkeypatch):
    t = world
    monkeypatch.setattr(desk_inbox, "PAGE_SIZE", 2)
    await person(client, ADA, "Ada", "agent")
    first = await (await client.get("/desk?view=unassigned&q=cy%40example.com")).text()
    assert [m.group(1) for m in ROW.finditer(first)] == [t["t4"], t["t3"]]
    assert "Newer tickets" not in first
    older = re.search(r'<a href="([^"]+)" rel="next">Older tickets', first).group(1)
    older = older.replace("&amp;", "&")
    assert "view=unassigned" in older and "q=cy%40example.com" in older
    second = await (await client.get(older)).text()
    assert [m.group(1) for m in ROW.finditer(second)] == [t["t2"], t["t1"]]
    assert "Older tickets" not in second
    newer = re.search(r'<a href="([^"]+)" rel="prev">Newer tickets', second).group(1)
    back = await (await client.get(newer.replace("&amp;", "&"))).text()
    assert [m.group(1) for m in ROW.finditer(back)] == [t["t4"], t["t3"]]
    # The SLA lists page by their own cursor, forwards, then back to their start.
    monkeypatch.setattr(desk_inbox, "PAGE_SIZE", 1)
    due = await (await client.get("/desk?view=due-soon")).text()
    assert [m.group(1) for m in ROW.finditer(due)] == [t["t2"]]
    nxt = re.search(r'<a href="([^"]+)" rel="next">', due).group(1).replace("&amp;", "&")
    then = await (await client.get(nxt)).text()
    assert [m.group(1) for m in ROW.finditer(then)] == [t["t1"]]
    assert '<a href="/desk?view=due-soon">First page</a>' in then


@pytest.mark.parametrize(
    "query",
    [
        "?q=a%00b",
        "?q=" + "x" * 201,
        "?assignee=a%00b",
        "?assignee=" + "a" * 321,
        "?view=nope",
        "?status=bogus",
        "?priority=%F0%9F%94%A5",
        "?stage=NOWHERE",
        "?product=nope",
        "?cursor=garbage",
        "?cursor=" + "A" * 300,
        "?cursor=eyJpZCI6IC0xfQ",  # {"id": -1}
        "?newer=%00",
        "?cursor=eyJpZCI6MX0&newer=eyJpZCI6MX0",
        "?view=breached&cursor=eyJpZCI6MX0",
        "?view=due-soon&newer=eyJpZCI6MX0",
        "?view=breached&q=export",
        "?view=due-soon&stage=MERGED",
        "?view=%ED%A0%80",
    ],
)
async def test_bad_query_input_is_a_400_page_never_a_500(client, world, query):
    await person(client, ADA, "Ada", "agent")
    page = await client.get(f"/desk{query}")
    text = await page.text()
    assert page.status == 400, (query, text[:300])
    assert 'role="alert"' in text and "<h1>Inbox</h1>" in text
    changes = await client.get(f"/desk/inbox/changes{query}")
    assert changes.status == 400
    assert "error" in await changes.json()


async def test_a_person_scoped_to_one_product_never_sees_another(client, world):
    t = world
    await person(client, "al@support.test", "Al", "agent", products=["alpha"])
    alpha = {t["t1"], t["t2"], t["t5"], t["t6"]}
    for query in (
        "",
        "?view=all",
        "?view=unassigned",
        "?view=pending",
        "?view=due-soon",
        "?view=breached",
        "?view=stage&stage=RECEIVED",
        "?view=product&product=alpha",
        "?q=cy%40example.com&view=all",
        f"?q={t['t3']}&view=all",
    ):
        shown = await listed(client, query)
        assert set(shown) <= alpha, query
        changes = await (await client.get(f"/desk/inbox/changes{query}")).json()
        assert {r["id"] for r in changes["rows"]} <= alpha, query
    assert await listed(client, "?view=all") == [t["t6"], t["t5"], t["t2"], t["t1"]]
    # beta is not among the choices, and asking for it is refused, not answered.
    text = await (await client.get("/desk?view=product")).text()
    assert "product=alpha" in text and "product=beta" not in text
    assert (await client.get("/desk?view=product&product=beta")).status == 400
    assert (await client.get("/desk/inbox/changes?product=beta")).status == 400


async def test_a_viewer_sees_the_inbox(client, world):
    await person(client, "vi@support.test", "Vi", "viewer")
    assert len(await listed(client, "?view=all")) == 6


async def test_signed_out_the_inbox_and_its_changes_ask_to_sign_in(client, world):
    for url in ("/desk", "/desk/inbox/changes"):
        resp = await client.get(url, allow_redirects=False)
        assert resp.status == 303 and "/desk/sign-in" in resp.headers["Location"]


async def test_the_changes_answer_the_pages_tickets_with_the_stamps_of_their_rows(
    client, world, clock
):
    t = world
    headers = await intake_key(client)
    await person(client, ADA, "Ada", "agent")
    page = await (await client.get("/desk")).text()
    stamps = {m.group(1): m.group(2) for m in ROW.finditer(page)}
    link = re.search(r'data-changes="([^"]+)"', page).group(1)
    assert link == "/desk/inbox/changes"
    same = await (await client.get(link)).json()
    assert {r["id"]: r["stamp"] for r in same["rows"]} == stamps
    # A new ticket and a change to another show; the rest keep their stamps.
    new = await new_ticket(client, headers, "Fresh one", "low", "beta")
    await patch(client, headers, t["t3"], priority="high")
    now = {r["id"]: r["stamp"] for r in (await (await client.get(link)).json())["rows"]}
    assert new in now and now[t["t3"]] != stamps[t["t3"]]
    assert {k: v for k, v in now.items() if k not in (new, t["t3"])} == {
        k: v for k, v in stamps.items() if k != t["t3"]
    }
    # Time alone breaching t2 changes its row (its clock), and moves it into "Breached".
    clock.at = T0 + dt.timedelta(hours=3)
    later = {r["id"]: r["stamp"] for r in (await (await client.get(link)).json())["rows"]}
    assert later[t["t2"]] != now[t["t2"]]
    breached = await (await client.get("/desk/inbox/changes?view=breached")).json()
    assert t["t2"] in [r["id"] for r in breached["rows"]]
    # The link keeps the view, the filters and the page.
    filtered = await (await client.get("/desk?view=mine&priority=medium")).text()
    assert 'data-changes="/desk/inbox/changes?view=mine&amp;priority=medium"' in filtered


async def intake_key(client) -> dict[str, str]:
    key = await client.post("/api/admin/keys", json={"name": "later"}, headers=ADMIN_HEADERS)
    return bearer(await key.json())


@pytest.fixture
def statements(db):
    """How many statements the app runs: the Reader's and the ORM's."""
    count = {"n": 0}
    reader = db.reader
    for name in ("fetch", "fetch_bounded"):
        original = getattr(reader, name)

        async def counted(sql, *args, _original=original):
            count["n"] += 1
            return await _original(sql, *args)

        setattr(reader, name, counted)

    def on_execute(*_args):
        count["n"] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    yield count
    event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)
    for name in ("fetch", "fetch_bounded"):
        delattr(reader, name)


async def test_a_page_costs_the_same_statements_for_many_rows_as_for_few(client, world, statements):
    headers = await intake_key(client)
    await person(client, ADA, "Ada", "agent")

    async def cost(query: str) -> int:
        await client.get(f"/desk{query}")  # warm: the session's first touch writes
        before = statements["n"]
        resp = await client.get(f"/desk{query}")
        assert resp.status == 200
        return statements["n"] - before

    queries = ("?view=all", "?view=due-soon", "?view=breached", "?q=e")
    few = {q: await cost(q) for q in queries}
    for n in range(12):
        await new_ticket(client, headers, f"More ticket {n}", "urgent", "alpha")
    client.app[CLOCK].at = LATER + dt.timedelta(hours=1)  # the new ones breach too
    many = {q: await cost(q) for q in queries}
    assert len(await listed(client, "?view=breached")) >= 12
    assert many == few
    # The session, the scope, the products, the list, its rows, the policies and the pauses
    # (on PostgreSQL the ORM's session read costs a few more).
    assert max(many.values()) <= 12


def test_the_row_statement_selects_its_records_columns():
    fields = [f for f in inbox_reads.InboxRow._fields if f != "product"]
    assert_selects(inbox_reads.ROWS.format(ids="$1", scope="1 = 1"), [*fields, "slug"])
