"""The desk and admin guards cover their whole prefix: an unknown path or method under
/api/v1 or /api/admin is refused for want of credentials before it is a 404 or 405, so the
routes cannot be probed without a key; with credentials the usual JSON 404/405 answers."""

from __future__ import annotations

from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer, make_key


async def test_unknown_desk_paths_and_methods_want_a_key_first(client):
    for method, url in [
        ("GET", "/api/v1/nope"),
        ("GET", "/api/v1/desk/nope"),
        ("PUT", "/api/v1/desk/tickets"),
    ]:
        resp = await client.request(method, url)
        assert resp.status == 401, url
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="tinydesk-desk"'
        assert resp.headers["X-RateLimit-Limit"]
        assert (await resp.json())["error"] == "Unauthorized"


async def test_with_a_desk_key_unknown_paths_are_404_and_methods_405(client):
    key = await make_key(client)
    missing = await client.get("/api/v1/desk/nope", headers=bearer(key))
    assert missing.status == 404
    assert (await missing.json())["error"] == "Not found"
    assert missing.headers["X-RateLimit-Remaining"]
    wrong = await client.put("/api/v1/desk/tickets", headers=bearer(key))
    assert wrong.status == 405
    assert {"GET", "POST"} <= set(wrong.headers["Allow"].split(","))
    assert (await wrong.json())["error"] == "Method not allowed"


async def test_unknown_admin_paths_and_methods_want_the_admin_token_first(client):
    for method, url in [
        ("GET", "/api/admin"),
        ("GET", "/api/admin/nope"),
        ("PUT", "/api/admin/keys"),
    ]:
        resp = await client.request(method, url)
        assert resp.status == 401, url
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="tinydesk-admin"'
    missing = await client.get("/api/admin/nope", headers=ADMIN_HEADERS)
    assert missing.status == 404
    assert (await missing.json())["error"] == "Not found"
    wrong = await client.put("/api/admin/keys", headers=ADMIN_HEADERS)
    assert wrong.status == 405
    assert "GET" in wrong.headers["Allow"]


async def test_paths_that_only_start_like_a_guarded_prefix_are_not_guarded(client):
    resp = await client.get("/api/administrators")
    assert resp.status == 404
    assert (await resp.json())["error"] == "Not found"
