"""Seed 002's ITSM resource, /api/v1/helpdesk/tickets (issue 18, item 3): every field of the
seed's schema present and typed as the seed says; the same tickets as the desk and public
views; scoped by tenant (a key of one tenant never sees another's ticket, through this API or
the desk's) and by application; teams and queue routing; soft delete and restore;
schema_version bumped by incompatible writes only."""

from __future__ import annotations

import re

import pytest

from bot.rules import ids
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer
from tests.shared import shared_dir

BASE = "/api/v1/helpdesk/tickets"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SEED_LINE = re.compile(r"^([a-z_]+)(\*?)(uuid|string|date-time|boolean|number|enum|json)")


def seed_fields() -> dict[str, tuple[str, bool]]:
    """Seed 002's schema table: field → (type, required)."""
    [seed] = shared_dir().joinpath("seeds").glob("002_*.txt")
    fields = {}
    for line in seed.read_text().splitlines():
        match = SEED_LINE.match(line)
        if match:
            fields[match.group(1)] = (match.group(3), match.group(2) == "*")
    return fields


async def add_product(client, slug: str, tenant: str | None = None) -> None:
    body = {"slug": slug, "repo": f"octo-org/{slug}", **({"tenant": tenant} if tenant else {})}
    resp = await client.post("/api/admin/products", json=body, headers=ADMIN_HEADERS)
    assert resp.status == 201, await resp.text()


async def key(client, name: str, **fields) -> dict[str, str]:
    resp = await client.post(
        "/api/admin/keys", json={"name": name, **fields}, headers=ADMIN_HEADERS
    )
    assert resp.status == 201, await resp.text()
    return bearer(await resp.json())


async def create(client, headers, expect: int = 201, **fields) -> dict:
    body = {"title": "VPN drops every hour", "description": "Since **Monday**.", **fields}
    resp = await client.post(BASE, json=body, headers=headers)
    assert resp.status == expect, await resp.text()
    return await resp.json()


@pytest.fixture
async def acme(client):
    await add_product(client, "acme-app", tenant="acme")
    return await key(client, "ada@acme.test", tenant="acme", products=["acme-app"])


async def test_every_seed_field_is_present_and_typed_as_the_seed_says(client, acme):
    app_key = await key(
        client, "bot@acme.test", tenant="acme", app="intake-bot", products=["acme-app"]
    )
    doc = await create(
        client,
        app_key,
        type="incident",
        priority="high",
        category="Network",
        tags=["vpn"],
        related_asset_id="ast_laptop-42",
        related_vulnerability_id="vul_cve-2026-1",
    )
    fields = seed_fields()
    assert len(fields) == 30 and set(doc) == set(fields)
    for field, (kind, required) in fields.items():
        value = doc[field]
        if required:
            assert value is not None, field
        if value is None:
            continue
        if kind == "uuid":
            assert isinstance(value, str) and re.match(r"^[a-z]+_[0-9A-Za-z_-]+$", value), field
        elif kind == "date-time":
            assert ISO.match(value), (field, value)
        elif kind == "boolean":
            assert isinstance(value, bool), field
        elif kind == "number":
            assert isinstance(value, int), field
        elif kind == "json":
            assert isinstance(value, list), field
        else:
            assert isinstance(value, str), field
    assert re.match(r"^tkt_[0-9A-Z]{26}$", doc["id"])  # a prefixed ULID
    assert doc["tenant_id"] == "acme" and doc["app_id"] == "intake-bot"
    assert doc["source"] == "edm" and doc["source_type"] == "api"
    assert doc["is_deleted"] is False and doc["schema_version"] == 1
    assert doc["title"] == "VPN drops every hour" and doc["description"] == "Since **Monday**."
    assert doc["type"] == "incident" and doc["status"] == "open" and doc["tags"] == ["vpn"]
    assert doc["submitted_by_id"].startswith("per_") and doc["assigned_to_id"] is None
    assert re.match(r"^slp_\d+$", doc["sla_policy"]) and doc["due_at"] is not None
    assert doc["related_asset_id"] == "ast_laptop-42"


async def test_one_record_three_views(client, acme):
    doc = await create(client, acme, submitter_email="sam@acme.test")
    number = int(doc["number"].removeprefix("TKT-"))
    public_id = f"TK-{number:05d}"
    desk = await (await client.get(f"/api/v1/desk/tickets/{doc['id']}", headers=acme)).json()
    assert desk["publicId"] == public_id and desk["subject"] == doc["title"]
    assert desk["email"] == "sam@acme.test"
    tracked = await (await client.get(f"/api/tickets/{public_id}")).json()
    assert tracked["publicId"] == public_id
    for ref in (doc["id"], doc["number"], public_id):
        resp = await client.get(f"{BASE}/{ref}", headers=acme)
        assert (await resp.json())["id"] == doc["id"], ref
    # A change through the desk is seen here.
    resp = await client.patch(
        f"/api/v1/desk/tickets/{doc['id']}", json={"assignee": "ada@acme.test"}, headers=acme
    )
    assert resp.status == 200
    again = await (await client.get(f"{BASE}/{doc['id']}", headers=acme)).json()
    assert again["assigned_to_id"] == ids.person_id("ada@acme.test")
    assert again["submitted_by_id"] == ids.person_id("SAM@acme.test")  # one person per address
    assert again["updated_by"].startswith("key_")


async def test_a_key_of_one_tenant_never_sees_another_tenants_ticket(client, acme):
    await add_product(client, "globex-app", tenant="globex")
    globex = await key(client, "hank@globex.test", tenant="globex", products=["globex-app"])
    theirs = await create(client, globex)
    ours = await create(client, acme)
    listed = await (await client.get(BASE, headers=acme)).json()
    assert [t["id"] for t in listed["items"]] == [ours["id"]]
    for method, path, body in (
        ("GET", f"{BASE}/{theirs['id']}", None),
        ("GET", f"{BASE}/{theirs['number']}", None),
        ("PATCH", f"{BASE}/{theirs['id']}", {"priority": "low"}),
        ("POST", f"{BASE}/{theirs['id']}/close", None),
        ("DELETE", f"{BASE}/{theirs['id']}", None),
        ("GET", f"/api/v1/desk/tickets/{theirs['id']}", None),
    ):
        resp = await client.request(method, path, json=body, headers=acme)
        assert resp.status == 404, (method, path)
    desk_list = await (await client.get("/api/v1/desk/tickets", headers=acme)).json()
    assert [t["id"] for t in desk_list["tickets"]] == [ours["id"]]
    # An unscoped key of the default tenant no longer sees the other tenants' tickets.
    staff = await key(client, "root@default.test")
    mine = await (await client.get("/api/v1/desk/tickets", headers=staff)).json()
    assert {t["id"] for t in mine["tickets"]}.isdisjoint({ours["id"], theirs["id"]})
    assert (await (await client.get(BASE, headers=staff)).json())["items"] == []
    # A key cannot be given another tenant's product.
    resp = await client.post(
        "/api/admin/keys",
        json={"name": "x@acme.test", "tenant": "acme", "products": ["globex-app"]},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 404 and "only its own tenant's" in (await resp.json())["hint"]


async def test_an_application_key_reads_only_its_applications_tickets(client, acme):
    bot = await key(client, "bot@acme.test", tenant="acme", app="intake-bot", products=["acme-app"])
    other = await key(client, "cron@acme.test", tenant="acme", app="nightly", products=["acme-app"])
    made_by_bot = await create(client, bot)
    made_by_person = await create(client, acme)
    assert "app_id" not in made_by_person  # absent for a person's key, as the seed says
    bot_list = await (await client.get(BASE, headers=bot)).json()
    assert [t["id"] for t in bot_list["items"]] == [made_by_bot["id"]]
    assert (await (await client.get(BASE, headers=other)).json())["items"] == []
    person_list = await (await client.get(BASE, headers=acme)).json()
    assert {t["id"] for t in person_list["items"]} == {made_by_bot["id"], made_by_person["id"]}


async def test_soft_delete_hides_and_restore_brings_back(client, acme):
    doc = await create(client, acme)
    deleted = await (await client.delete(f"{BASE}/{doc['id']}", headers=acme)).json()
    assert deleted["is_deleted"] is True and deleted["deleted_by"].startswith("key_")
    assert deleted["status"] == "open"  # deleting is not closing
    assert (await (await client.get(BASE, headers=acme)).json())["items"] == []
    assert (await client.get(f"{BASE}/{doc['id']}", headers=acme)).status == 404
    everything = await (await client.get(f"{BASE}?include_deleted=true", headers=acme)).json()
    assert [t["is_deleted"] for t in everything["items"]] == [True]
    restored = await client.post(f"{BASE}/{doc['id']}/restore", headers=acme)
    body = await restored.json()
    assert body["is_deleted"] is False and body["deleted_at"] is None
    assert body["schema_version"] == 2
    again = await client.post(f"{BASE}/{doc['id']}/restore", headers=acme)
    assert again.status == 409
    bad = await client.get(f"{BASE}?include_deleted=maybe", headers=acme)
    assert bad.status == 400


async def test_updates_bump_schema_version_only_when_incompatible(client, acme):
    doc = await create(client, acme, type="incident")
    url = f"{BASE}/{doc['id']}"
    same = await (
        await client.patch(url, json={"priority": "urgent", "title": "VPN down"}, headers=acme)
    ).json()
    assert same["schema_version"] == 1 and same["title"] == "VPN down"
    assert same["priority"] == "urgent"
    changed = await (await client.patch(url, json={"type": "problem"}, headers=acme)).json()
    assert changed["schema_version"] == 2 and changed["type"] == "problem"
    closed = await (await client.post(f"{url}/close", headers=acme)).json()
    assert closed["status"] == "closed"
    for body, field in (
        ({"number": "TKT-9"}, "number"),
        ({"tenant_id": "globex"}, "tenant_id"),
        ({"priority": "sky-high"}, "priority"),
        ({"title": "  "}, "title"),
        ({}, "body"),
    ):
        resp = await client.patch(url, json=body, headers=acme)
        assert resp.status == 400, body
        problem = await resp.json()
        assert field in problem["fields"] and problem["hint"]


async def test_teams_route_tickets_to_their_queue(client, acme):
    resp = await client.post("/api/v1/helpdesk/teams", json={"name": "Network"}, headers=acme)
    assert resp.status == 201, await resp.text()
    team = await resp.json()
    assert team["id"].startswith("team_") and team["tenant_id"] == "acme"
    dup = await client.post("/api/v1/helpdesk/teams", json={"name": "Network"}, headers=acme)
    assert dup.status == 409
    routed = await create(client, acme, team_id=team["id"])
    await create(client, acme)
    queue = await (await client.get(f"{BASE}?team_id={team['id']}", headers=acme)).json()
    assert [t["id"] for t in queue["items"]] == [routed["id"]]
    moved = await (
        await client.patch(f"{BASE}/{routed['id']}", json={"team_id": None}, headers=acme)
    ).json()
    assert moved["team_id"] is None and moved["schema_version"] == 2
    unknown = await create(client, acme, expect=400, team_id="team_01ABCDEF")
    assert "team_id" in unknown["fields"]
    # Another tenant's team is unknown here.
    await add_product(client, "globex-app", tenant="globex")
    globex = await key(client, "hank@globex.test", tenant="globex", products=["globex-app"])
    assert (await (await client.get("/api/v1/helpdesk/teams", headers=globex)).json()) == {
        "items": []
    }
    assert "team_id" in (await create(client, globex, expect=400, team_id=team["id"]))["fields"]


async def test_the_list_pages_by_cursor(client, acme):
    made = [await create(client, acme, title=f"Ticket {n}") for n in range(5)]
    seen, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = await (await client.get(BASE + query, headers=acme)).json()
        seen += [t["id"] for t in page["items"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == [t["id"] for t in reversed(made)]
    assert (await client.get(f"{BASE}?limit=0", headers=acme)).status == 400


async def test_filters_that_no_column_holds_are_a_400(client, acme):
    for query in ("team_id=a%00b", "category=%00", "status=nope", "type=null"):
        resp = await client.get(f"{BASE}?{query}", headers=acme)
        assert resp.status == 400, query
        assert (await resp.json())["hint"]


async def test_an_id_no_column_holds_is_a_404(client, acme):
    for ref in ("tkt_a%00b", "TKT-99999999999999999999", "..", "tkt_" + "x" * 80):
        resp = await client.get(f"{BASE}/{ref}", headers=acme)
        assert resp.status == 404, ref


async def test_a_listed_document_is_the_document_of_its_ticket(client, acme):
    """The list reads its rows as plain SQL and the single GET through the model: the same
    ticket must come out as the same document, field for field (tags in order, times,
    nulls, the team, a filter's match, a deleted ticket's fields)."""
    team = await client.post("/api/v1/helpdesk/teams", json={"name": "Network"}, headers=acme)
    assert team.status == 201, await team.text()
    team_id = (await team.json())["id"]
    plain = await create(client, acme)
    rich = await create(
        client,
        acme,
        type="incident",
        priority="high",
        category="network",
        team_id=team_id,
        tags=["vpn", "urgent", "berlin"],
        related_asset_id="asset-7",
    )
    gone = await create(client, acme, tags=["old"])
    assert (await client.delete(f"{BASE}/{gone['id']}", headers=acme)).status == 200
    listed = (await (await client.get(BASE, headers=acme)).json())["items"]
    assert [t["id"] for t in listed] == [rich["id"], plain["id"]]
    for doc in listed:
        single = await (await client.get(f"{BASE}/{doc['id']}", headers=acme)).json()
        assert doc == single
    assert listed[0]["tags"] == ["vpn", "urgent", "berlin"]
    filtered = await client.get(f"{BASE}?team_id={team_id}&priority=high", headers=acme)
    assert [t["id"] for t in (await filtered.json())["items"]] == [rich["id"]]
    with_deleted = await client.get(f"{BASE}?include_deleted=true", headers=acme)
    [deleted_doc] = [t for t in (await with_deleted.json())["items"] if t["id"] == gone["id"]]
    assert deleted_doc["is_deleted"] is True and deleted_doc["deleted_at"] is not None
    assert deleted_doc["tags"] == ["old"] and deleted_doc["deleted_by"].startswith("key_")
