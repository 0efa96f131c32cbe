"""The workspace's New ticket page (issue 19, item 4; seed 003's "Manual"): an agent types a
ticket in and it is created as them, with source ``manual``, its GitHub issue queued; a
template pre-fills the form and fills what is left empty, as the API's create does; refused
input comes back with the API's messages next to their fields and nothing typed lost; a
product outside the person's scope is refused; a viewer is not allowed, whatever they send,
and a POST without the session's CSRF token changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.jobs.kinds import JobKind
from storage.models import Job, StaffAccount, Ticket
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.deskkit import bearer, make_key
from tests.test_desk_ticket_page import person

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def client(make_client):
    return await make_client(Settings(admin_token=ADMIN_TOKEN, run_workers=False))


async def product(client, slug: str) -> None:
    resp = await client.post(
        "/api/admin/products", json={"slug": slug, "repo": f"o/{slug}"}, headers=ADMIN_HEADERS
    )
    assert resp.status == 201, await resp.text()


async def submit(client, path: str = "/desk/new", **fields: str):
    page = await client.get(path)
    token = CSRF.search(await page.text()).group(1)
    return await client.post(
        "/desk/new", data={"csrf_token": token, **fields}, allow_redirects=False
    )


async def tickets(db) -> list[Ticket]:
    async with db.session() as session:
        return list(
            await session.scalars(
                select(Ticket).options(selectinload(Ticket.tags)).order_by(Ticket.id)
            )
        )


async def test_the_form_offers_only_the_persons_products(client):
    await product(client, "mine")
    await product(client, "other")
    await person(client, "al@support.test", "Al", "agent", products=["mine"])
    resp = await client.get("/desk/new")
    page = await resp.text()
    assert resp.status == 200 and "<h1>New ticket</h1>" in page
    assert '<option value="mine" selected>' in page and 'value="other"' not in page
    for label in ("Requester email", "Requester name", "Subject", "Description", "Priority"):
        assert label in page
    assert 'href="/desk/new" aria-current="page"' in page  # in the workspace's navigation


async def test_a_typed_in_ticket_is_the_persons_with_source_manual_and_its_issue_queued(client, db):
    await product(client, "app")
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await submit(
        client,
        email="cy@example.com",
        name="Cy Requester",
        subject="Phone call: export fails",
        body="Called at 10:00; CSV export 500s.",
        productSlug="app",
        priority="high",
        type="incident",
        category="Exports",
        tags="export, csv",
    )
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"] == "/desk/tickets/TK-00001"
    [ticket] = await tickets(db)
    async with db.session() as session:
        ada = await session.scalar(select(StaffAccount))
        jobs = list(await session.scalars(select(Job).where(Job.kind == JobKind.CREATE_ISSUE)))
    assert ticket.source_type == "manual" and ticket.created_by == ada.desk_id
    assert (ticket.submitter_email, ticket.submitter_name) == ("cy@example.com", "Cy Requester")
    assert (ticket.priority, ticket.type, ticket.category) == ("high", "incident", "Exports")
    assert [t.tag for t in ticket.tags] == ["export", "csv"]
    assert [j.args["ticket_id"] for j in jobs] == [ticket.id]
    # "manual" is a source every view may show (the OpenAPI enums are checked at teardown).
    key = bearer(await make_key(client))
    shown = await client.get("/api/v1/desk/tickets/TK-00001", headers=key)
    assert (await shown.json())["source_type"] == "manual"
    itsm = await client.get("/api/v1/helpdesk/tickets/TKT-0001", headers=key)
    assert itsm.status == 200 and (await itsm.json())["source_type"] == "manual"


async def test_a_template_prefills_the_form_and_fills_what_is_left_empty(client, db):
    await product(client, "app")
    resp = await client.post(
        "/api/admin/templates",
        json={
            "name": "VPN Configuration Request",
            "subject": "VPN access",
            "body": "Needs VPN on a new laptop.",
            "priority": "urgent",
            "category": "Network",
            "tags": ["vpn"],
            "productSlug": "app",
        },
        headers=ADMIN_HEADERS,
    )
    template = await resp.json()
    await person(client, "ada@support.test", "Ada", "agent")
    form = await client.get(f"/desk/new?template={template['id']}")
    page = await form.text()
    assert form.status == 200
    assert 'value="VPN access"' in page and "Needs VPN on a new laptop." in page
    assert '<option value="urgent" selected>' in page and 'value="vpn"' in page
    assert f'<input type="hidden" name="template" value="{template["id"]}">' in page
    # Only the requester typed, the subject cleared: the template fills both, as in the API.
    resp = await submit(
        client,
        f"/desk/new?template={template['id']}",
        template=template["id"],
        email="cy@example.com",
        body="Laptop serial 42.",
    )
    assert resp.status == 303, await resp.text()
    [ticket] = await tickets(db)
    assert (ticket.subject, ticket.body) == ("VPN access", "Laptop serial 42.")
    assert (ticket.priority, ticket.category, ticket.source_type) == ("urgent", "Network", "manual")
    assert [t.tag for t in ticket.tags] == ["vpn"] and ticket.product_id is not None


async def test_an_unknown_template_is_a_400_with_the_reason(client):
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await client.get("/desk/new?template=tpl_nope")
    assert resp.status == 400
    assert "no template &#x27;tpl_nope&#x27; is open to this key" in await resp.text()


async def test_refused_input_has_the_apis_messages_by_their_fields_and_keeps_what_was_typed(
    client, db
):
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await submit(
        client,
        email="not-an-address",
        subject="",
        body="Steps <b>1</b>",
        priority="critical",
        tags="login, sso",
        category="Access",
    )
    assert resp.status == 400
    page = await resp.text()
    api = await client.post(
        "/api/v1/desk/tickets",
        json={"email": "not-an-address", "body": "Steps", "priority": "critical"},
        headers=bearer(await make_key(client)),
    )
    fields = (await api.json())["fields"]
    assert set(fields) == {"email", "subject", "priority"}
    for field, message in fields.items():
        assert f'<p class="field-error" id="{field}-error">{message}</p>' in page, field
    assert 'value="not-an-address"' in page and "Steps &lt;b&gt;1&lt;/b&gt;" in page
    assert 'value="login, sso"' in page and 'value="Access"' in page
    assert await tickets(db) == []


async def test_a_product_outside_the_persons_scope_is_refused(client, db):
    await product(client, "mine")
    await product(client, "other")
    await person(client, "al@support.test", "Al", "agent", products=["mine"])
    resp = await submit(client, email="c@example.com", subject="S", body="B", productSlug="other")
    assert resp.status == 404
    assert 'id="productSlug-error">Product not found' in await resp.text()
    assert await tickets(db) == []


async def test_a_viewer_is_not_allowed_to_see_the_form_nor_to_post_it(client, db):
    await person(client, "vi@support.test", "Vi", "viewer")
    resp = await client.get("/desk/new")
    page = await resp.text()
    assert resp.status == 403 and "Not allowed" in page
    assert 'href="/desk/new"' not in page  # not offered in the navigation either
    token = CSRF.search(page).group(1)  # the sign-out form's: a real session's token
    resp = await client.post(
        "/desk/new",
        data={"csrf_token": token, "email": "c@example.com", "subject": "S", "body": "B"},
        allow_redirects=False,
    )
    assert resp.status == 403
    assert await tickets(db) == []


async def test_a_post_without_the_csrf_token_creates_nothing(client, db):
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await client.post(
        "/desk/new",
        data={"email": "c@example.com", "subject": "S", "body": "B"},
        allow_redirects=False,
    )
    assert resp.status == 403
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0
