"""The OpenAPI document says exactly what the server accepts (issue 13, item 2).

tests/test_openapi.py checks the answers against the document; these check the other way:
what the document calls a valid request is what the server's validators accept, field by
field, for the rules the document states (non-blank required text, no NUL, OWNER/NAME
repositories, tag characters, enum-only filters, integer limits). tests/test_schemathesis.py
then fuzzes a real server with requests generated from the document.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from bot.api.openapi import SPEC
from bot.rules import desk_input
from bot.tickets.products import parse_repo
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer, make_key


def schema(name: str) -> dict:
    """A component schema with the document's components, so that $refs resolve."""
    return {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}


def valid(schema_: dict, value: object) -> bool:
    return Draft202012Validator(schema_).is_valid(value)


def request_bodies() -> dict[str, dict]:
    out = {}
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if "$ref" in content.get("application/json", {}).get("schema", {}):
                name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                out[f"{method.upper()} {path}"] = name
    return out


def test_every_required_text_field_refuses_blank_and_nul_in_the_document():
    """The server answers "… is required" for "" and "  ": the document says so."""
    checked = 0
    for name in set(request_bodies().values()):
        body = SPEC["components"]["schemas"][name]
        for field in body.get("required", []):
            prop = body["properties"][field]
            if prop.get("type") != "string" or "enum" in prop:
                continue
            field_schema = {"properties": {field: prop}}
            for blank in ("", "   ", "\t\n", "a\x00"):
                assert not valid(field_schema, {field: blank}), (name, field, blank)
            assert prop["minLength"] >= 1 and "pattern" in prop, (name, field)
            checked += 1
    assert checked >= 8  # subject, body, email, productSlug, slug, repo, name, ...


@pytest.mark.parametrize(
    "repo",
    ["octo-org/my-saas-app", "a/b", "o/.github", "o/..x", "o/.", "o/..", "o", "o/b/c", "-o/r",
     "o/r r", "o/" + "r" * 100, "o/" + "r" * 101, "o" * 39 + "/r", "o" * 40 + "/r", "o/r.git"],
)
def test_the_repository_pattern_is_the_servers_owner_name_rule(repo):
    assert valid(schema("ProductCreate")["properties"]["repo"], repo) == (
        parse_repo(repo) is not None
    )


@pytest.mark.parametrize("tag", ["bug", " x ", "é", "a" * 64, "", "  ", "a\x00b", "a" * 65])
def test_tag_characters_in_the_document_are_the_servers(tag):
    errors = desk_input.FieldErrors()
    accepted = desk_input._tags(errors, [tag]) is not None
    assert valid(schema("DeskTicketCreate")["properties"]["tags"], [tag]) == accepted


def test_a_tag_with_nul_is_refused_for_the_nul():
    errors = desk_input.FieldErrors()
    assert desk_input._tags(errors, ["ok", "a\x00b"]) is None
    assert errors.fields == {"tags": "tags[1] must not contain NUL characters"}


@pytest.mark.parametrize("path", ["/api/admin/deliveries", "/api/admin/jobs"])
async def test_an_empty_state_filter_is_refused_like_any_value_outside_the_enum(client, path):
    resp = await client.get(f"{path}?state=", headers=ADMIN_HEADERS)
    assert resp.status == 400
    assert (await resp.json())["error"] == "Invalid state"
    assert (await client.get(f"{path}?state=failed", headers=ADMIN_HEADERS)).status == 200
    param = next(p for p in SPEC["paths"][path]["get"]["parameters"] if p["name"] == "state")
    assert param["schema"] == {"$ref": "#/components/schemas/QueueItemState"}


async def test_an_integral_float_issue_number_is_the_integer_json_schema_says_it_is(
    client, product
):
    ticket = await (
        await client.post(
            "/api/tickets",
            json={"productSlug": "my-saas-app", "submitterEmail": "a@example.com",
                  "subject": "s", "body": "b"},
        )
    ).json()
    link = f"/api/admin/tickets/{ticket['publicId']}/link"
    assert valid(schema("TicketLink"), {"issue": 12.0})
    # This server has no GitHub App: a number it accepts gets as far as asking GitHub (503).
    resp = await client.post(link, json={"issue": 12.0}, headers=ADMIN_HEADERS)
    assert resp.status == 503, await resp.text()
    for refused in (12.5, 0, 2**31, True, "12"):
        assert not valid(schema("TicketLink"), {"issue": refused})
        resp = await client.post(link, json={"issue": refused}, headers=ADMIN_HEADERS)
        assert resp.status == 400, refused


def test_integer_parameters_declare_their_bounds():
    for path in ("/api/admin/deliveries/{id}/replay", "/api/admin/jobs/{id}/replay"):
        (param,) = SPEC["paths"][path]["post"]["parameters"]
        assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (1, 2**63 - 1)
    issue = SPEC["components"]["schemas"]["TicketLink"]["properties"]["issue"]
    assert (issue["minimum"], issue["maximum"]) == (1, 2**31 - 1)


async def test_nul_in_a_list_of_names_is_refused(client, product):
    resp = await client.patch(
        "/api/admin/products/my-saas-app",
        json={"productionEnvironments": ["prod\x00"]},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 400
    resp = await client.post(
        "/api/admin/keys", json={"name": "k", "products": ["my-saas-app\x00"]},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 400


async def test_null_optional_fields_are_accepted_as_the_document_says(client, product):
    key = await make_key(client, products=["my-saas-app"])
    body = {"subject": "s", "body": "b", "email": "c@example.com", "priority": None,
            "tags": None, "productSlug": None, "type": None, "category": None,
            "source_type": None}
    assert valid(schema("DeskTicketCreate"), body)
    resp = await client.post("/api/v1/desk/tickets", json=body, headers=bearer(key))
    assert resp.status == 201, await resp.text()


async def test_a_revoked_key_is_not_changed_any_more(client):
    """Schemathesis (use_after_free): PATCH after DELETE answered 200 and renamed the key."""
    key = await make_key(client)
    url = f"/api/admin/keys/{key['id']}"
    assert (await client.delete(url, headers=ADMIN_HEADERS)).status == 200
    resp = await client.patch(url, json={"name": "renamed"}, headers=ADMIN_HEADERS)
    assert resp.status == 409
    assert (await resp.json())["error"] == "Key is revoked"
    listed = (await (await client.get("/api/admin/keys", headers=ADMIN_HEADERS)).json())["keys"]
    assert [k["name"] for k in listed if k["id"] == key["id"]] == [key["name"]]


async def test_extra_fields_are_storable_json_in_the_document_and_on_the_server(client, product):
    """Unknown fields are ignored, but the whole body is refused when one holds a NUL (in a
    key or a string) or a whole number beyond 64 bits (bot/http/bodies.py): the document
    says so through StorableJson, which schemathesis found missing."""
    key = await make_key(client, products=["my-saas-app"])
    base = {"subject": "s", "body": "b", "email": "c@example.com"}
    for extra, accepted in [
        ({"note": {"a": [1, None, True, 1.5, "x"]}}, True),
        ({"big": 2**63 - 1}, True),
        ({"big": 2**63}, False),
        ({"k\x00": 1}, False),
        ({"note": ["v\x00"]}, False),
    ]:
        body = {**base, **extra}
        assert valid(schema("DeskTicketCreate"), body) == accepted, extra
        resp = await client.post("/api/v1/desk/tickets", json=body, headers=bearer(key))
        assert (resp.status == 201) == accepted, (extra, resp.status)
