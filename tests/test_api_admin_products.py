"""The admin products API: bearer-token auth, slug rules, duplicates, removal."""

from __future__ import annotations

import pytest

from bot.config import Settings
from tests.conftest import ADMIN_HEADERS


async def test_products_are_registered_and_listed(client):
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "Octo-Org/my-saas-app", "name": "My SaaS"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201
    created = await resp.json()
    assert created["slug"] == "my-saas-app"
    assert created["repo"] == "Octo-Org/my-saas-app"
    assert created["name"] == "My SaaS"
    assert created["appInstalled"] is False and created["installationId"] is None
    assert created["deploymentTracking"] is True
    assert created["productionEnvironments"] == ["production"]
    listing = await (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).json()
    assert listing == {"products": [created]}


async def test_name_defaults_to_slug_and_settings_are_kept(client):
    resp = await client.post(
        "/api/admin/products",
        json={
            "slug": "api",
            "repo": "o/r",
            "deploymentTracking": False,
            "productionEnvironments": ["prod", "production-eu"],
        },
        headers=ADMIN_HEADERS,
    )
    body = await resp.json()
    assert body["name"] == "api"
    assert body["deploymentTracking"] is False
    assert body["productionEnvironments"] == ["prod", "production-eu"]


async def test_duplicate_slug_is_409(client, product):
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "o/other"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 409
    body = await resp.json()
    assert body["error"] == "Product already exists" and "my-saas-app" in body["hint"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"slug": "My App", "repo": "o/r"}, {"slug"}),
        ({"slug": "-app", "repo": "o/r"}, {"slug"}),
        ({"slug": "app--x", "repo": "o/r"}, {"slug"}),
        ({"slug": "app_x", "repo": "o/r"}, {"slug"}),
        ({"slug": "app", "repo": "no-slash"}, {"repo"}),
        ({"slug": "app", "repo": "o/r/extra"}, {"repo"}),
        ({"slug": "app", "repo": "o/.."}, {"repo"}),
        ({}, {"slug", "repo"}),
        ({"slug": "app", "repo": "o/r", "productionEnvironments": []}, {"productionEnvironments"}),
        ({"slug": "app", "repo": "o/r", "deploymentTracking": "yes"}, {"deploymentTracking"}),
    ],
)
async def test_invalid_products_are_rejected_with_field_errors(client, body, fields):
    resp = await client.post("/api/admin/products", json=body, headers=ADMIN_HEADERS)
    assert resp.status == 400
    answer = await resp.json()
    assert set(answer["fields"]) == fields
    listing = await (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).json()
    assert listing["products"] == []


async def test_remove_product(client, product):
    resp = await client.delete("/api/admin/products/my-saas-app", headers=ADMIN_HEADERS)
    assert resp.status == 200
    assert await resp.json() == {"success": True, "message": "Product removed"}
    resp = await client.delete("/api/admin/products/my-saas-app", headers=ADMIN_HEADERS)
    assert resp.status == 404
    assert (await resp.json())["error"] == "Product not found"


async def test_removing_a_product_keeps_its_tickets_trackable(client, product):
    await client.post(
        "/api/tickets",
        json={
            "productSlug": "my-saas-app",
            "submitterEmail": "a@example.com",
            "subject": "s",
            "body": "b",
        },
    )
    await client.delete("/api/admin/products/my-saas-app", headers=ADMIN_HEADERS)
    resp = await client.get("/api/tickets/TK-00001")
    assert resp.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic dGVzdA=="},
        {"Authorization": "Bearer "},
    ],
)
async def test_admin_api_requires_the_token(client, headers):
    for method, path in [
        ("GET", "/api/admin/products"),
        ("POST", "/api/admin/products"),
        ("DELETE", "/api/admin/products/x"),
    ]:
        resp = await client.request(
            method, path, headers=headers, json={"slug": "a", "repo": "o/r"}
        )
        assert resp.status == 401
        body = await resp.json()
        assert body["error"] == "Unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    listing = await (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).json()
    assert listing["products"] == []


async def test_admin_api_is_off_without_a_token(make_client):
    client = await make_client(Settings(admin_token=None))
    resp = await client.get("/api/admin/products", headers={"Authorization": "Bearer anything"})
    assert resp.status == 403
    body = await resp.json()
    assert body["error"] == "Admin API disabled" and "TINYDESK_ADMIN_TOKEN" in body["hint"]


# -- issueText: how much submitter text the product's GitHub issues carry ----------------------


async def test_issue_text_defaults_to_the_repository_visibility_and_is_kept(client):
    resp = await client.post(
        "/api/admin/products", json={"slug": "a", "repo": "o/a"}, headers=ADMIN_HEADERS
    )
    assert (await resp.json())["issueText"] is None  # by visibility: scrubbed if public
    for value in ("full", "scrubbed", "subject-only"):
        resp = await client.post(
            "/api/admin/products",
            json={"slug": f"p-{value}", "repo": "o/r", "issueText": value},
            headers=ADMIN_HEADERS,
        )
        assert resp.status == 201 and (await resp.json())["issueText"] == value


@pytest.mark.parametrize("value", ["public", "FULL", "", 3, True, ["full"], {"x": 1}])
async def test_a_bad_issue_text_is_a_400_naming_the_choices(client, value):
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "a", "repo": "o/a", "issueText": value},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 400
    body = await resp.json()
    assert "subject-only" in body["fields"]["issueText"] and body["hint"]


async def test_a_product_s_settings_are_changed_with_patch(client, product):
    url = "/api/admin/products/my-saas-app"
    resp = await client.patch(url, json={"issueText": "subject-only"}, headers=ADMIN_HEADERS)
    assert resp.status == 200
    changed = await resp.json()
    assert changed["issueText"] == "subject-only" and changed["slug"] == "my-saas-app"
    resp = await client.patch(
        url,
        json={"issueText": None, "name": "Renamed", "deploymentTracking": False},
        headers=ADMIN_HEADERS,
    )
    changed = await resp.json()
    assert changed["issueText"] is None and changed["name"] == "Renamed"
    assert changed["deploymentTracking"] is False
    listing = await (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).json()
    assert listing["products"] == [changed]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"issueText": "everything"}, "issueText"),
        ({"slug": "other"}, "slug"),
        ({"repo": "o/other"}, "repo"),
        ({"name": ""}, "name"),
        ({"productionEnvironments": []}, "productionEnvironments"),
    ],
)
async def test_a_bad_patch_is_a_400_and_changes_nothing(client, product, body, field):
    resp = await client.patch("/api/admin/products/my-saas-app", json=body, headers=ADMIN_HEADERS)
    assert resp.status == 400
    assert field in (await resp.json())["fields"]
    listing = await (await client.get("/api/admin/products", headers=ADMIN_HEADERS)).json()
    assert listing["products"][0]["issueText"] is None


async def test_patching_an_unknown_product_is_a_404(client):
    resp = await client.patch(
        "/api/admin/products/nope", json={"issueText": "full"}, headers=ADMIN_HEADERS
    )
    assert resp.status == 404 and (await resp.json())["error"] == "Product not found"


async def test_patching_needs_the_admin_token(client, product):
    resp = await client.patch("/api/admin/products/my-saas-app", json={"issueText": "full"})
    assert resp.status == 401
