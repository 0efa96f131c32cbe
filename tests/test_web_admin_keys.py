"""The admin API-keys page: create a key (shown once), revoke it, both behind CSRF."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import ApiKey
from tests.test_web_admin import sign_in

NEW_KEY = re.compile(r'id="new-key" class="secret" type="text" value="(td_(?:live|test)_\w+)"')


async def desk_status(client, key: str) -> int:
    resp = await client.get("/api/v1/desk/tickets", headers={"Authorization": f"Bearer {key}"})
    return resp.status


async def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(client, product, db):
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/api-keys",
        data={"csrf_token": csrf, "name": "Zendesk bridge", "products": "my-saas-app"},
    )
    assert resp.status == 201
    assert resp.headers["Cache-Control"] == "no-store"
    page = await resp.text()
    secret = NEW_KEY.search(page).group(1)
    assert secret.startswith("td_live_")
    assert "shown only this once" in page
    assert await desk_status(client, secret) == 200

    listing = await (await client.get("/admin/api-keys")).text()
    assert secret not in listing
    assert secret[:12] in listing and "Zendesk bridge" in listing and "my-saas-app" in listing
    async with db.session() as session:
        key = await session.scalar(select(ApiKey))
    assert len(key.product_ids) == 1

    resp = await client.post(
        f"/admin/api-keys/{key.public_id}/revoke",
        data={"csrf_token": csrf},
        allow_redirects=False,
    )
    assert resp.status == 303
    revoked = await (await client.get(resp.headers["Location"])).text()
    assert f"Key {key.public_id} revoked" in revoked
    assert "Revoked <time" in revoked
    assert await desk_status(client, secret) == 401


async def test_a_test_key_for_all_products(client, product):
    csrf = await sign_in(client)
    page = await (
        await client.post("/admin/api-keys", data={"csrf_token": csrf, "name": "CI", "test": "on"})
    ).text()
    assert NEW_KEY.search(page).group(1).startswith("td_test_")
    listing = await (await client.get("/admin/api-keys")).text()
    assert "all products" in listing and ">test<" in listing


async def test_a_key_without_a_name_or_for_an_unknown_product_is_refused(client, product, db):
    csrf = await sign_in(client)
    resp = await client.post("/admin/api-keys", data={"csrf_token": csrf, "name": " "})
    assert resp.status == 400
    page = await resp.text()
    assert 'id="name-error"' in page and 'aria-invalid="true"' in page
    assert NEW_KEY.search(page) is None
    resp = await client.post(
        "/admin/api-keys", data={"csrf_token": csrf, "name": "X", "products": "nope"}
    )
    assert resp.status == 404
    assert "Product not found" in await resp.text()
    async with db.session() as session:
        assert (await session.scalars(select(ApiKey))).all() == []


async def test_creating_and_revoking_need_the_csrf_token(client, product, db):
    csrf = await sign_in(client)
    resp = await client.post("/admin/api-keys", data={"name": "Forged"})
    assert resp.status == 403
    assert "That form has expired" in await resp.text()
    await client.post("/admin/api-keys", data={"csrf_token": csrf, "name": "Real"})
    async with db.session() as session:
        key = await session.scalar(select(ApiKey))
    assert key.name == "Real"
    resp = await client.post(f"/admin/api-keys/{key.public_id}/revoke", data={"csrf_token": "x"})
    assert resp.status == 403
    async with db.session() as session:
        assert (await session.get(ApiKey, key.id)).revoked_at is None


async def test_revoking_an_unknown_key_is_a_404_page(client):
    csrf = await sign_in(client)
    resp = await client.post("/admin/api-keys/key_nope/revoke", data={"csrf_token": csrf})
    assert resp.status == 404
    assert "No API key key_nope" in await resp.text()


async def test_a_key_gets_a_public_name_on_the_page_and_can_change_it(client, db):
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/api-keys",
        data={"csrf_token": csrf, "name": "dana@acme.example", "publicName": "Dana"},
    )
    assert resp.status == 201
    async with db.session() as session:
        key = await session.scalar(select(ApiKey))
    assert key.public_name == "Dana"
    url = f"/admin/api-keys/{key.public_id}/public-name"
    resp = await client.post(
        url, data={"csrf_token": csrf, "publicName": "Dana K."}, allow_redirects=False
    )
    assert resp.status == 303
    listing = await (await client.get(resp.headers["Location"])).text()
    assert "public name changed" in listing and 'value="Dana K."' in listing
    refused = await client.post(url, data={"csrf_token": csrf, "publicName": "d@acme.example"})
    assert refused.status == 400 and "publicName must be" in await refused.text()
    assert (await client.post(url, data={"publicName": "X"})).status == 403  # no CSRF token
    resp = await client.post(url, data={"csrf_token": csrf, "publicName": ""})
    async with db.session() as session:
        assert (await session.scalar(select(ApiKey))).public_name is None  # the default again


async def test_an_email_as_public_name_is_refused_on_create(client):
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/api-keys",
        data={"csrf_token": csrf, "name": "Dana", "publicName": "dana@acme.example"},
    )
    assert resp.status == 400 and "publicName must be" in await resp.text()
