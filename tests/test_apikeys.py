"""Desk API keys: their format, storage as hashes only, the admin API and the CLI."""

from __future__ import annotations

import math
import re

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.rules.ids import hash_secret
from bot.tickets import apikeys
from storage.models import ApiKey
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import add_product, bearer, make_key

KEY_PATTERN = re.compile(r"^td_(live|test)_[0-9A-Za-z]{38}$")


def test_keys_have_a_scannable_prefix_a_checksum_and_enough_randomness():
    live, test = apikeys.generate_key(test=False), apikeys.generate_key(test=True)
    assert KEY_PATTERN.match(live) and live.startswith("td_live_")
    assert KEY_PATTERN.match(test) and test.startswith("td_test_")
    assert apikeys.RANDOM_CHARS * math.log2(62) >= 128
    assert apikeys.is_well_formed(live) and apikeys.is_well_formed(test)
    assert len({apikeys.generate_key(test=False) for _ in range(1000)}) == 1000


def test_a_mistyped_key_fails_its_checksum():
    key = apikeys.generate_key(test=False)
    flipped = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    for bad in (flipped, key[:-1], key + "x", key.replace("td_live_", "td_prod_"), "", "td_live_"):
        assert not apikeys.is_well_formed(bad), bad


async def test_admin_creates_a_key_shown_once_and_stored_only_as_its_hash(client, db, product):
    resp = await client.post(
        "/api/admin/keys",
        json={"name": "Helpdesk bot", "products": ["my-saas-app"]},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201
    body = await resp.json()
    assert KEY_PATTERN.match(body["key"]) and body["key"].startswith("td_live_")
    assert body["id"].startswith("key_")
    assert body["name"] == "Helpdesk bot"
    assert body["prefix"] == body["key"][:12]
    assert body["mode"] == "live"
    assert body["products"] == ["my-saas-app"]
    assert body["revokedAt"] is None and body["lastUsedAt"] is None
    assert resp.headers["Cache-Control"] == "no-store"
    async with db.session() as session:
        row = await session.scalar(select(ApiKey))
    assert row.key_hash == hash_secret(body["key"])
    assert body["key"] not in str(vars(row))
    listed = await (await client.get("/api/admin/keys", headers=ADMIN_HEADERS)).json()
    assert listed == {"keys": [{k: v for k, v in body.items() if k != "key"}]}
    assert body["key"] not in str(listed)


async def test_using_a_key_records_when_it_was_last_used(client, product):
    key = await make_key(client)
    await client.get("/api/v1/desk/stats", headers=bearer(key))
    listed = await (await client.get("/api/admin/keys", headers=ADMIN_HEADERS)).json()
    assert listed["keys"][0]["lastUsedAt"] is not None


async def test_revoking_a_key_stops_it_and_keeps_it_listed(client):
    key = await make_key(client, test=True)
    resp = await client.delete(f"/api/admin/keys/{key['id']}", headers=ADMIN_HEADERS)
    assert resp.status == 200
    assert await resp.json() == {"success": True, "message": "Key revoked"}
    assert (await client.get("/api/v1/desk/stats", headers=bearer(key))).status == 401
    listed = (await (await client.get("/api/admin/keys", headers=ADMIN_HEADERS)).json())["keys"]
    assert listed[0]["revokedAt"] is not None and listed[0]["mode"] == "test"
    again = await client.delete(f"/api/admin/keys/{key['id']}", headers=ADMIN_HEADERS)
    assert again.status == 200


@pytest.mark.parametrize("key_id", ["key_nope", "nope", "%00"])
async def test_revoking_an_unknown_key_is_404(client, key_id):
    resp = await client.delete(f"/api/admin/keys/{key_id}", headers=ADMIN_HEADERS)
    assert resp.status == 404
    assert (await resp.json())["error"] == "Key not found"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "a", "products": "my-saas-app"}, "products"),
        ({"name": "a", "products": [1]}, "products"),
        ({"name": "a", "test": "yes"}, "test"),
    ],
)
async def test_bad_key_requests_are_400(client, payload, field):
    resp = await client.post("/api/admin/keys", json=payload, headers=ADMIN_HEADERS)
    assert resp.status == 400
    body = await resp.json()
    assert field in body["fields"] and body["hint"]


async def test_a_key_for_an_unknown_product_is_404(client, product):
    resp = await client.post(
        "/api/admin/keys", json={"name": "a", "products": ["nope"]}, headers=ADMIN_HEADERS
    )
    assert resp.status == 404
    assert (await resp.json())["error"] == "Product not found"


async def test_the_keys_api_needs_the_admin_token(client):
    for method, path in (
        ("get", "/api/admin/keys"),
        ("post", "/api/admin/keys"),
        ("delete", "/api/admin/keys/key_x"),
    ):
        resp = await client.request(method, path, json={"name": "x"})
        assert resp.status == 401
        assert (await resp.json())["error"] == "Unauthorized"


async def test_a_key_whose_product_was_removed_sees_nothing_rather_than_everything(client, product):
    await add_product(client, "other-app")
    key = await make_key(client, products=["other-app"])
    mine = await make_key(client, products=["my-saas-app"])
    await client.post(
        "/api/v1/desk/tickets",
        headers=bearer(mine),
        json={"subject": "s", "body": "b", "email": "c@example.com"},
    )
    await client.delete("/api/admin/products/other-app", headers=ADMIN_HEADERS)
    body = await (await client.get("/api/v1/desk/tickets", headers=bearer(key))).json()
    assert body["tickets"] == []
    listed = (await (await client.get("/api/admin/keys", headers=ADMIN_HEADERS)).json())["keys"]
    assert listed[0]["products"][0].startswith("(removed product")


def test_cli_creates_lists_and_revokes_keys(database_url, capsys):
    environ = {"DATABASE_URL": database_url}
    assert main(["products", "add", "my-saas-app", "--repo", "octo-org/my-saas-app"], environ) == 0
    capsys.readouterr()

    assert (
        main(["keys", "create", "--name", "Support", "--product", "my-saas-app", "--test"], environ)
        == 0
    )
    out, err = capsys.readouterr()
    key = out.strip()
    assert KEY_PATTERN.match(key) and key.startswith("td_test_")
    assert "not shown again" in err and "my-saas-app" in err and key not in err

    assert main(["keys", "list", "--json"], environ) == 0
    import json

    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 1
    assert listed[0]["name"] == "Support" and listed[0]["products"] == ["my-saas-app"]
    assert listed[0]["mode"] == "test" and key not in json.dumps(listed)

    assert main(["keys", "list"], environ) == 0
    line = capsys.readouterr().out
    assert listed[0]["id"] in line and "active" in line and key not in line

    assert main(["keys", "revoke", listed[0]["id"]], environ) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "list"], environ) == 0
    assert "revoked 20" in capsys.readouterr().out

    assert main(["keys", "revoke", "key_nope"], environ) == 1
    assert "Key not found" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "x", "--product", "nope"], environ) == 1
    assert "Product not found" in capsys.readouterr().err
