"""The OpenAPI document: served, well-formed, covering every route, and true to the answers.

Every test client (tests/conftest.py ``make_client``) records the JSON it receives and
checks it against the document at teardown (tests/openapi_recorder.py).
"""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from bot.api.openapi import SPEC
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer, make_key
from tests.openapi_recorder import ResponseRecorder, template_key

METHODS = {"get", "post", "put", "patch", "delete"}


def described_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), template_key(path))
        for path, item in SPEC["paths"].items()
        for method in item
        if method in METHODS
    }


async def test_every_api_route_is_described(client):
    described = described_operations()
    missing = []
    for route in client.server.app.router.routes():
        path = route.resource.canonical
        if route.method == "HEAD" or path == "/api/openapi.json":
            continue
        if not path.startswith(("/api/", "/webhooks/", "/healthz")):
            continue  # HTML pages
        if (route.method, template_key(path)) not in described:
            missing.append(f"{route.method} {path}")
    assert missing == []


def test_the_contract_paths_are_described():
    for operation in [
        ("POST", "/api/v1/desk/tickets"),
        ("GET", "/api/v1/desk/tickets"),
        ("GET", "/api/v1/desk/tickets/{}"),
        ("PATCH", "/api/v1/desk/tickets/{}"),
        ("DELETE", "/api/v1/desk/tickets/{}"),
        ("POST", "/api/v1/desk/tickets/{}/comments"),
        ("GET", "/api/v1/desk/stats"),
        ("POST", "/api/tickets"),
        ("GET", "/api/tickets/{}"),
        ("POST", "/webhooks/github"),
        ("GET", "/healthz"),
        ("GET", "/api/admin/keys"),
        ("POST", "/api/admin/keys"),
        ("DELETE", "/api/admin/keys/{}"),
        ("GET", "/api/admin/products"),
        ("POST", "/api/admin/products"),
        ("DELETE", "/api/admin/products/{}"),
    ]:
        assert operation in described_operations(), operation
    assert "202" in SPEC["paths"]["/webhooks/github"]["post"]["responses"]


def test_the_document_is_openapi_3_1_with_valid_schemas_and_resolvable_refs():
    assert SPEC["openapi"].startswith("3.1")
    for _name, schema in SPEC["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    text = json.dumps(SPEC)
    for ref in set(part.split('"')[0] for part in text.split('"$ref": "')[1:]):
        node = SPEC
        for step in ref.removeprefix("#/").split("/"):
            node = node[step.replace("~1", "/").replace("~0", "~")]
        assert node, ref
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                assert operation["responses"], (method, path)
                assert operation.get("summary"), (method, path)


async def test_the_document_is_served(client):
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    assert await resp.json() == json.loads(json.dumps(SPEC))


async def test_desk_responses_are_checked_against_the_document(client, product):
    """A tour of the desk and admin API whose answers the recorder validates at teardown."""
    key = await make_key(client, products=["my-saas-app"])
    created = await (
        await client.post(
            "/api/v1/desk/tickets",
            json={"subject": "s", "body": "b", "email": "c@example.com", "type": "change"},
            headers=bearer(key),
        )
    ).json()
    url = f"/api/v1/desk/tickets/{created['id']}"
    await client.post(
        f"{url}/comments", json={"body": "note", "internal": True}, headers=bearer(key)
    )
    await client.patch(url, json={"status": "resolved", "tags": ["x"]}, headers=bearer(key))
    await client.get(url, headers=bearer(key))
    await client.get("/api/v1/desk/tickets?limit=1", headers=bearer(key))
    await client.get("/api/v1/desk/stats", headers=bearer(key))
    await client.get("/api/admin/keys", headers=ADMIN_HEADERS)
    await client.get("/api/admin/products", headers=ADMIN_HEADERS)
    await client.delete(url, headers=bearer(key))
    await client.delete(f"/api/admin/keys/{key['id']}", headers=ADMIN_HEADERS)
    await client.get("/healthz")


def test_the_recorder_catches_answers_that_break_the_document():
    recorder = ResponseRecorder()
    recorder.seen = [
        ("get", "/api/v1/desk/stats", 200, {"byStatus": {"open": 1}, "totalTickets": 1}),
        ("get", "/api/v1/desk/tickets/{id}", 200, {"id": "tkt_x"}),
        ("get", "/api/v1/desk/stats", 418, {"error": "teapot"}),
        ("get", "/api/nowhere", 200, {}),
        ("get", "/api/tickets/{public_id}", 404, {"error": "Ticket not found", "hint": "h"}),
    ]
    problems = recorder.problems()
    assert {p.split(":")[0] for p in problems} == {
        "GET /api/v1/desk/stats -> 200",
        "GET /api/v1/desk/tickets/{id} -> 200",
        "GET /api/v1/desk/stats -> 418",
        "GET /api/nowhere -> 200",
    }
    assert any("'avgResolutionTimeHours' is a required property" in p for p in problems)
    assert any("status not documented" in p for p in problems)
    assert any("operation not in the OpenAPI document" in p for p in problems)
    with pytest.raises(AssertionError):
        recorder.assert_valid()
