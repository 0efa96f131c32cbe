"""Ticket templates (seed 003, issue 15 item 9) through the real server: the desk API's
/api/v1/desk/templates and the admin API's /api/admin/templates (list, create, edit, delete),
a new desk ticket filled from a template, a key's scope, and bad input answered with a 400
``{"error", "hint", "fields"}`` that changes nothing."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from bot.api.openapi import SPEC
from bot.errors import ApiError
from bot.rules.templates import validate_template
from storage.models import Ticket, TicketTemplate
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import ISO_MS_Z, add_product, bearer, make_key

TEMPLATES = "/api/v1/desk/templates"
TICKETS = "/api/v1/desk/tickets"
ADMIN_TEMPLATES = "/api/admin/templates"

NEW_EMPLOYEE = {
    "name": "New Employee Setup",
    "subject": "Set up a new employee",
    "body": "Laptop, accounts and badge for the new starter.",
    "priority": "high",
    "type": "service_request",
    "category": "Onboarding",
    "tags": ["onboarding", "hr"],
    "productSlug": "my-saas-app",
}
VPN = {"name": "VPN Configuration Request", "subject": "VPN access", "category": "Network"}


@pytest.fixture
async def key(client) -> dict:
    """An unscoped key: every product's templates and the shared ones."""
    return await make_key(client)


async def count(db, model) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def create(client, key, body: dict) -> dict:
    resp = await client.post(TEMPLATES, json=body, headers=bearer(key))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def listed(client, key) -> list[dict]:
    resp = await client.get(TEMPLATES, headers=bearer(key))
    assert resp.status == 200, await resp.text()
    return (await resp.json())["templates"]


async def refused(resp, status: int = 400) -> dict:
    """The answer is ``status`` in seed 001's error shape (with ``fields`` on a 400)."""
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert body["error"] and body["hint"]
    if status == 400:
        assert body["fields"]
    return body


# --- the desk API: list, create, show, edit, delete -----------------------------------------


async def test_a_template_is_created_with_every_field_and_shown_by_id_or_name(client, product, key):
    resp = await client.post(TEMPLATES, json=NEW_EMPLOYEE, headers=bearer(key))
    assert resp.status == 201
    template = await resp.json()
    assert template["id"].startswith("tpl_")
    assert resp.headers["Location"] == f"{TEMPLATES}/{template['id']}"
    expected = {k: v for k, v in NEW_EMPLOYEE.items()}
    assert {k: template[k] for k in expected} == expected
    assert ISO_MS_Z.match(template["createdAt"]) and template["updatedAt"] == template["createdAt"]
    assert template["createdBy"] == template["updatedBy"] == key["id"]
    by_id = await client.get(f"{TEMPLATES}/{template['id']}", headers=bearer(key))
    by_name = await client.get(f"{TEMPLATES}/New%20Employee%20Setup", headers=bearer(key))
    assert await by_id.json() == await by_name.json() == template
    assert [t["name"] for t in await listed(client, key)] == ["New Employee Setup"]


async def test_only_the_name_is_required_and_the_rest_is_null(client, key):
    template = await create(client, key, {"name": "Blank"})
    assert {k: template[k] for k in ("subject", "body", "priority", "type", "category")} == {
        "subject": None,
        "body": None,
        "priority": None,
        "type": None,
        "category": None,
    }
    assert template["tags"] == [] and template["productSlug"] is None


async def test_a_template_is_edited_field_by_field_and_null_clears_a_field(client, product, key):
    template = await create(client, key, NEW_EMPLOYEE)
    url = f"{TEMPLATES}/{template['id']}"
    resp = await client.patch(
        url,
        json={"name": "Onboarding", "priority": "urgent", "category": None, "tags": ["it"]},
        headers=bearer(key),
    )
    assert resp.status == 200, await resp.text()
    changed = await resp.json()
    assert changed["name"] == "Onboarding" and changed["priority"] == "urgent"
    assert changed["category"] is None and changed["tags"] == ["it"]
    assert changed["subject"] == NEW_EMPLOYEE["subject"]  # not sent, not changed
    assert changed["productSlug"] == "my-saas-app"
    resp = await client.patch(url, json={"productSlug": None}, headers=bearer(key))
    assert (await resp.json())["productSlug"] is None
    # The new name finds it; the old one no longer does.
    assert (await client.get(f"{TEMPLATES}/Onboarding", headers=bearer(key))).status == 200
    gone = await client.get(f"{TEMPLATES}/New%20Employee%20Setup", headers=bearer(key))
    assert (await refused(gone, 404))["error"] == "Template not found"


async def test_a_deleted_template_is_gone_and_its_tickets_stay(client, db, product, key):
    template = await create(client, key, NEW_EMPLOYEE)
    ticket = await client.post(
        TICKETS, json={"template": template["id"], "email": "a@example.com"}, headers=bearer(key)
    )
    assert ticket.status == 201
    url = f"{TEMPLATES}/{template['id']}"
    resp = await client.delete(url, headers=bearer(key))
    assert resp.status == 200
    assert await resp.json() == {"success": True, "message": "Template deleted"}
    await refused(await client.get(url, headers=bearer(key)), 404)
    await refused(await client.delete(url, headers=bearer(key)), 404)
    assert await listed(client, key) == []
    assert await count(db, Ticket) == 1


async def test_the_list_is_newest_first_in_pages_like_the_ticket_list(client, key):
    for n in range(3):
        await create(client, key, {"name": f"Template {n}"})
    first = await (await client.get(f"{TEMPLATES}?limit=2", headers=bearer(key))).json()
    assert [t["name"] for t in first["templates"]] == ["Template 2", "Template 1"]
    assert first["hasMore"] is True
    second = await (
        await client.get(f"{TEMPLATES}?limit=2&cursor={first['nextCursor']}", headers=bearer(key))
    ).json()
    assert [t["name"] for t in second["templates"]] == ["Template 0"]
    assert second["hasMore"] is False and "nextCursor" not in second
    bad = await client.get(f"{TEMPLATES}?cursor=nope", headers=bearer(key))
    assert bad.status == 400 and (await bad.json())["error"] == "Invalid cursor"
    bad = await client.get(f"{TEMPLATES}?limit=101", headers=bearer(key))
    assert bad.status == 400 and (await bad.json())["error"] == "Invalid limit"


async def test_templates_need_a_desk_key(client):
    resp = await client.get(TEMPLATES)
    assert resp.status == 401


# --- a new ticket from a template -----------------------------------------------------------


async def test_a_ticket_takes_from_its_template_every_field_the_request_leaves_out(
    client, product, key
):
    await create(client, key, NEW_EMPLOYEE)
    resp = await client.post(
        TICKETS,
        json={"template": "New Employee Setup", "email": "manager@example.com"},
        headers=bearer(key),
    )
    assert resp.status == 201, await resp.text()
    ticket = await resp.json()
    assert ticket["subject"] == NEW_EMPLOYEE["subject"]
    assert ticket["body"] == NEW_EMPLOYEE["body"]
    assert ticket["priority"] == "high"
    assert ticket["type"] == "service_request"
    assert ticket["category"] == "Onboarding"
    assert ticket["tags"] == ["onboarding", "hr"]
    assert ticket["productSlug"] == "my-saas-app"
    assert ticket["email"] == "manager@example.com"


async def test_what_the_request_sends_wins_over_the_template_and_null_counts_as_left_out(
    client, product, key
):
    template = await create(client, key, NEW_EMPLOYEE)
    resp = await client.post(
        TICKETS,
        json={
            "template": template["id"],
            "email": "manager@example.com",
            "subject": "Set up Ada Lovelace",
            "priority": "low",
            "tags": [],  # sent: no tags, not the template's
            "category": None,  # null: left out, so the template's
        },
        headers=bearer(key),
    )
    assert resp.status == 201, await resp.text()
    ticket = await resp.json()
    assert ticket["subject"] == "Set up Ada Lovelace"
    assert ticket["priority"] == "low"
    assert ticket["tags"] == []
    assert ticket["category"] == "Onboarding"
    assert ticket["body"] == NEW_EMPLOYEE["body"]


async def test_a_template_without_a_subject_still_needs_one_from_the_request(client, db, key):
    await create(client, key, VPN | {"subject": None})
    resp = await client.post(
        TICKETS, json={"template": VPN["name"], "email": "a@example.com"}, headers=bearer(key)
    )
    body = await refused(resp)
    assert body["fields"] == {"subject": "subject is required", "body": "body is required"}
    assert await count(db, Ticket) == 0
    resp = await client.post(
        TICKETS,
        json={"template": VPN["name"], "email": "a@example.com", "subject": "s", "body": "b"},
        headers=bearer(key),
    )
    assert resp.status == 201 and (await resp.json())["category"] == "Network"


@pytest.mark.parametrize("template", ["No Such Template", "tpl_doesnotexist"])
async def test_an_unknown_template_is_a_400_naming_template_and_creates_nothing(
    client, db, key, template
):
    resp = await client.post(
        TICKETS,
        json={"template": template, "subject": "s", "body": "b", "email": "a@example.com"},
        headers=bearer(key),
    )
    body = await refused(resp)
    assert body["error"] == "Unknown template"
    assert list(body["fields"]) == ["template"]
    assert await count(db, Ticket) == 0


async def test_a_template_that_is_not_text_is_refused(client, db, key):
    resp = await client.post(
        TICKETS,
        json={"template": 7, "subject": "s", "body": "b", "email": "a@example.com"},
        headers=bearer(key),
    )
    assert (await refused(resp))["fields"] == {"template": "template must be a string"}
    assert await count(db, Ticket) == 0


async def test_a_template_with_a_critical_priority_is_refused_in_the_desk_s_words(client, db, key):
    """The desk says urgent (seed 001); critical is seed 003's word, refused as the desk does."""
    resp = await client.post(
        TEMPLATES, json={"name": "Outage", "priority": "critical"}, headers=bearer(key)
    )
    body = await refused(resp)
    assert body["error"] == "Invalid priority"
    assert body["hint"] == "Use low, medium, high or urgent, or null (a ticket's default, medium)."
    assert await count(db, TicketTemplate) == 0


# --- bad input: 400, every field, nothing changed --------------------------------------------


async def test_every_bad_field_of_a_new_template_is_reported_at_once(client, db, key):
    resp = await client.post(
        TEMPLATES,
        json={
            "name": "  ",
            "subject": "s" * 257,
            "priority": "critical",
            "type": "chore",
            "category": 5,
            "tags": ["ok", ""],
            "productSlug": ["a"],
        },
        headers=bearer(key),
    )
    body = await refused(resp)
    assert body["error"] == "name is required"
    assert body["fields"] == {
        "name": "name is required",
        "subject": "subject must be at most 256 characters",
        "priority": "Invalid priority",
        "type": "Invalid type",
        "category": "category must be a string",
        "tags": "tags[1] must be a non-empty string",
        "productSlug": "productSlug must be a string",
    }
    assert await count(db, TicketTemplate) == 0


async def test_a_template_naming_an_unknown_product_is_a_400_and_changes_nothing(
    client, db, product, key
):
    resp = await client.post(
        TEMPLATES, json={**NEW_EMPLOYEE, "productSlug": "nope"}, headers=bearer(key)
    )
    body = await refused(resp)
    assert body["error"] == "Unknown product"
    assert body["fields"] == {"productSlug": "no product has the slug 'nope'"}
    assert await count(db, TicketTemplate) == 0
    template = await create(client, key, NEW_EMPLOYEE)
    url = f"{TEMPLATES}/{template['id']}"
    resp = await client.patch(
        url, json={"name": "Renamed", "productSlug": "nope"}, headers=bearer(key)
    )
    assert (await refused(resp))["fields"] == {"productSlug": "no product has the slug 'nope'"}
    assert await (await client.get(url, headers=bearer(key))).json() == template


async def test_a_name_is_unique_and_never_looks_like_an_id(client, db, key):
    first = await create(client, key, {"name": "VPN"})
    second = await create(client, key, {"name": "Other"})
    resp = await client.post(TEMPLATES, json={"name": "VPN"}, headers=bearer(key))
    assert (await refused(resp, 409))["error"] == "Template already exists"
    resp = await client.patch(
        f"{TEMPLATES}/{second['id']}", json={"name": "VPN"}, headers=bearer(key)
    )
    assert (await refused(resp, 409))["error"] == "Template already exists"
    resp = await client.post(TEMPLATES, json={"name": "tpl_mine"}, headers=bearer(key))
    assert (await refused(resp))["fields"] == {
        "name": "name must not look like a template id (tpl_…)"
    }
    # Renaming a template to its own name is no conflict.
    resp = await client.patch(
        f"{TEMPLATES}/{first['id']}", json={"name": "VPN"}, headers=bearer(key)
    )
    assert resp.status == 200
    assert sorted(t["name"] for t in await listed(client, key)) == ["Other", "VPN"]


async def test_an_edit_with_nothing_to_change_or_an_unknown_field_is_refused(client, key):
    template = await create(client, key, VPN)
    url = f"{TEMPLATES}/{template['id']}"
    body = await refused(await client.patch(url, json={}, headers=bearer(key)))
    assert list(body["fields"]) == ["request"]
    body = await refused(await client.patch(url, json={"subjet": "typo"}, headers=bearer(key)))
    assert list(body["fields"]) == ["subjet"]
    body = await refused(await client.patch(url, json={"name": None}, headers=bearer(key)))
    assert body["fields"] == {"name": "name is required"}
    assert await (await client.get(url, headers=bearer(key))).json() == template


@pytest.mark.parametrize(
    "name",
    ["VPN", "tpl_abc", " tpl_abc\t", "TPL_abc", "tpl_a b", "tpl_", "tpl_" + "a" * 37, "x tpl_a"],
)
def test_the_document_s_name_rule_is_the_server_s(name):
    """What the OpenAPI document calls a valid name is what the server accepts."""
    schema = {
        **SPEC["components"]["schemas"]["DeskTemplateCreate"],
        "components": SPEC["components"],
    }
    try:
        validate_template({"name": name})
        accepted = True
    except ApiError:
        accepted = False
    assert Draft202012Validator(schema).is_valid({"name": name}) == accepted


# --- a key's scope ----------------------------------------------------------------------------


@pytest.fixture
async def scoped(client, product) -> dict:
    """Templates of my-saas-app, of other-app and of no product, and a key for my-saas-app."""
    await add_product(client, "other-app")
    admin = await make_key(client, name="admin key")
    for body in (
        NEW_EMPLOYEE,
        {**VPN, "productSlug": "other-app"},
        {"name": "Shared", "subject": "Anything"},
    ):
        await create(client, admin, body)
    return await make_key(client, name="my-saas-app key", products=["my-saas-app"])


async def test_a_scoped_key_sees_its_products_templates_and_shared_ones(client, scoped):
    assert sorted(t["name"] for t in await listed(client, scoped)) == [
        "New Employee Setup",
        "Shared",
    ]
    hidden = await client.get(f"{TEMPLATES}/VPN%20Configuration%20Request", headers=bearer(scoped))
    await refused(hidden, 404)


async def test_a_scoped_key_cannot_file_a_ticket_from_another_products_template(client, db, scoped):
    resp = await client.post(
        TICKETS,
        json={"template": VPN["name"], "email": "a@example.com", "body": "b"},
        headers=bearer(scoped),
    )
    assert (await refused(resp))["error"] == "Unknown template"
    assert await count(db, Ticket) == 0


async def test_a_shared_template_s_ticket_goes_where_the_key_s_tickets_go(client, scoped):
    resp = await client.post(
        TICKETS,
        json={"template": "Shared", "email": "a@example.com", "body": "b"},
        headers=bearer(scoped),
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["productSlug"] == "my-saas-app"  # the key's only product


async def test_a_ticket_goes_to_its_template_s_product(client, scoped):
    """An unscoped key files VPN's ticket to other-app, the product the template names."""
    admin = await make_key(client, name="all products")
    resp = await client.post(
        TICKETS, json={"template": VPN["name"], "email": "a@example.com", "body": "b"},
        headers=bearer(admin),
    )  # fmt: skip
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["productSlug"] == "other-app"


async def test_a_productslug_sent_with_a_template_wins_and_is_checked_as_always(
    client, db, scoped
):
    """A template's product can only be one the key sees (a template of another product is
    an unknown template); a productSlug sent beside it is the one checked: 404 outside."""
    narrow = await make_key(client, name="other-app key", products=["other-app"])
    resp = await client.post(
        TICKETS,
        json={"template": "Shared", "email": "a@example.com", "body": "b",
              "productSlug": "my-saas-app"},
        headers=bearer(narrow),
    )  # fmt: skip
    assert (await refused(resp, 404))["error"] == "Product not found"
    assert await count(db, Ticket) == 0
    resp = await client.post(
        TICKETS,
        json={"template": "Shared", "email": "a@example.com", "body": "b",
              "productSlug": "other-app"},
        headers=bearer(narrow),
    )  # fmt: skip
    assert resp.status == 201 and (await resp.json())["productSlug"] == "other-app"


async def test_a_scoped_key_makes_and_changes_only_its_products_templates(client, db, scoped):
    mine = await create(client, scoped, {"name": "Mine"})
    assert mine["productSlug"] == "my-saas-app"  # the key's only product
    resp = await client.post(
        TEMPLATES, json={"name": "Theirs", "productSlug": "other-app"}, headers=bearer(scoped)
    )
    assert (await refused(resp))["fields"] == {
        "productSlug": "no product 'other-app' is open to this key"
    }
    resp = await client.patch(f"{TEMPLATES}/Shared", json={"subject": "x"}, headers=bearer(scoped))
    assert (await refused(resp, 403))["error"] == "Template is shared"
    await refused(await client.delete(f"{TEMPLATES}/Shared", headers=bearer(scoped)), 403)
    resp = await client.patch(
        f"{TEMPLATES}/{mine['id']}", json={"productSlug": None}, headers=bearer(scoped)
    )
    assert list((await refused(resp))["fields"]) == ["productSlug"]
    assert await count(db, TicketTemplate) == 4


async def test_a_key_for_several_products_names_one_for_a_template(client, scoped):
    both = await make_key(client, name="both", products=["my-saas-app", "other-app"])
    resp = await client.post(TEMPLATES, json={"name": "Which?"}, headers=bearer(both))
    assert list((await refused(resp))["fields"]) == ["productSlug"]
    made = await create(client, both, {"name": "This one", "productSlug": "other-app"})
    assert made["productSlug"] == "other-app"


# --- the admin API ----------------------------------------------------------------------------


async def test_the_admin_api_lists_creates_edits_and_deletes_templates(client, db, product):
    resp = await client.post(ADMIN_TEMPLATES, json=NEW_EMPLOYEE, headers=ADMIN_HEADERS)
    assert resp.status == 201, await resp.text()
    template = await resp.json()
    assert template["createdBy"] == "admin"
    await client.post(ADMIN_TEMPLATES, json={"name": "Another"}, headers=ADMIN_HEADERS)
    listing = await (await client.get(ADMIN_TEMPLATES, headers=ADMIN_HEADERS)).json()
    assert [t["name"] for t in listing["templates"]] == ["Another", "New Employee Setup"]
    url = f"{ADMIN_TEMPLATES}/{template['id']}"
    shown = await (await client.get(url, headers=ADMIN_HEADERS)).json()
    assert shown == template
    resp = await client.patch(url, json={"type": "incident"}, headers=ADMIN_HEADERS)
    assert resp.status == 200 and (await resp.json())["type"] == "incident"
    resp = await client.delete(f"{ADMIN_TEMPLATES}/Another", headers=ADMIN_HEADERS)
    assert resp.status == 200
    assert await count(db, TicketTemplate) == 1


async def test_the_admin_api_refuses_bad_input_and_changes_nothing(client, db):
    resp = await client.post(
        ADMIN_TEMPLATES, json={"name": "X", "productSlug": "nope"}, headers=ADMIN_HEADERS
    )
    assert (await refused(resp))["fields"] == {"productSlug": "no product has the slug 'nope'"}
    resp = await client.post(ADMIN_TEMPLATES, json={"priority": "critical"}, headers=ADMIN_HEADERS)
    assert set((await refused(resp))["fields"]) == {"name", "priority"}
    assert await count(db, TicketTemplate) == 0
    assert (await client.get(ADMIN_TEMPLATES)).status == 401
    await refused(await client.delete(f"{ADMIN_TEMPLATES}/nope", headers=ADMIN_HEADERS), 404)
