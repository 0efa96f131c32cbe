"""The admin templates pages (/admin/templates): add, list, edit and remove a ticket template
through the forms, each POST with the session's CSRF token; a refused form shows every
field's problem, keeps what was typed and stores nothing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from storage.models import TicketTemplate
from tests.test_web_admin import sign_in
from tests.web_helpers import csrf_token

FORM = {
    "name": "New Employee Setup",
    "subject": "Set up a new employee",
    "body": "Laptop, accounts\nand badge.",
    "priority": "high",
    "type": "service_request",
    "category": "Onboarding",
    "tags": "onboarding, hr",
    "productSlug": "my-saas-app",
}


async def stored(db) -> list[TicketTemplate]:
    async with db.session() as session:
        return list((await session.scalars(select(TicketTemplate))).all())


async def test_add_edit_and_remove_a_template_through_the_forms(client, db, product):
    csrf = await sign_in(client)
    page = await (await client.get("/admin/templates")).text()
    assert "No templates yet." in page and 'href="/admin/templates"' in page  # in the nav
    assert '<option value="my-saas-app">My SaaS App (my-saas-app)</option>' in page
    resp = await client.post(
        "/admin/templates", data={"csrf_token": csrf, **FORM}, allow_redirects=False
    )
    assert resp.status == 303, await resp.text()
    page = await (await client.get(resp.headers["Location"])).text()
    assert "Template New Employee Setup added." in page
    assert "<code>my-saas-app</code>" in page and "onboarding, hr" in page
    (template,) = await stored(db)
    assert (template.priority, template.type, template.tags) == (
        "high",
        "service_request",
        ["onboarding", "hr"],
    )
    assert template.body == "Laptop, accounts\nand badge." and template.created_by == "admin"

    edit_url = f"/admin/templates/{template.desk_id}/edit"
    assert f'href="{edit_url}"' in page
    form = await (await client.get(edit_url)).text()
    assert 'value="New Employee Setup"' in form and '<option value="high" selected>' in form
    assert ">Laptop, accounts\nand badge.</textarea>" in form
    resp = await client.post(
        edit_url,
        data={"csrf_token": csrf_token(form), **FORM, "priority": "", "productSlug": "",
              "tags": "it"},
        allow_redirects=False,
    )  # fmt: skip
    assert resp.status == 303, await resp.text()
    assert (
        "Template New Employee Setup saved"
        in await (await client.get(resp.headers["Location"])).text()
    )
    (template,) = await stored(db)
    assert (template.priority, template.product_id, template.tags) == (None, None, ["it"])

    remove_url = f"/admin/templates/{template.desk_id}/remove"
    confirm = await (await client.get(remove_url)).text()
    assert "Remove template New Employee Setup?" in confirm
    resp = await client.post(
        remove_url, data={"csrf_token": csrf_token(confirm)}, allow_redirects=False
    )
    assert resp.status == 303
    assert (
        "Template New Employee Setup removed"
        in await (await client.get(resp.headers["Location"])).text()
    )
    assert await stored(db) == []
    assert (await client.get(edit_url)).status == 404


async def test_a_refused_form_shows_every_problem_keeps_the_values_and_stores_nothing(client, db):
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/templates",
        data={"csrf_token": csrf, "name": "", "subject": "Kept", "category": "c" * 101},
    )
    assert resp.status == 400
    page = await resp.text()
    assert "name is required" in page and "category must be at most 100 characters" in page
    assert 'value="Kept"' in page
    assert page.count('aria-invalid="true"') == 2
    # A product that is not registered (a forged option) is refused on the form too.
    resp = await client.post(
        "/admin/templates", data={"csrf_token": csrf, "name": "VPN", "productSlug": "nope"}
    )
    assert resp.status == 400
    assert "no product has the slug &#x27;nope&#x27;" in await resp.text()
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(TicketTemplate)) == 0


async def test_a_taken_name_is_reported_on_the_form(client, db):
    csrf = await sign_in(client)
    for _ in range(2):
        resp = await client.post(
            "/admin/templates", data={"csrf_token": csrf, "name": "VPN"}, allow_redirects=False
        )
    assert resp.status == 409
    assert "Template already exists" in await resp.text()
    assert len(await stored(db)) == 1


async def test_template_forms_need_the_session_s_csrf_token(client, db):
    await sign_in(client)
    resp = await client.post("/admin/templates", data={"name": "VPN"})
    assert resp.status == 403
    resp = await client.post("/admin/templates", data={"name": "VPN", "csrf_token": "forged"})
    assert resp.status == 403
    assert await stored(db) == []
    page = await (await client.get("/admin/templates")).text()
    assert re.search(r'<form class="stacked" method="post" action="/admin/templates"', page)
