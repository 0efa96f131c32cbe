"""The public API of seed 000: POST /api/tickets and GET /api/tickets/{publicId}."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.rules.pipeline import STAGES

SEED_EXAMPLE = {
    "productSlug": "my-saas-app",
    "submitterEmail": "agent@example.com",
    "submitterName": "AI Agent v2",
    "subject": "Login button unresponsive on Safari",
    "body": "Reproducible steps:\n1. Open Safari 17\n2. Navigate to /login\n3. Click Sign In\n\n"
    "Expected: form submits\nActual: nothing happens",
    "screenshots": ["https://cdn.example.com/bug-01.png"],
}
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def submit(client, **overrides):
    body = {**SEED_EXAMPLE, **overrides}
    return await client.post("/api/tickets", json=body)


async def test_seed_example_is_accepted_with_the_documented_response(client, product):
    resp = await submit(client)
    assert resp.status == 201
    body = await resp.json()
    assert body["publicId"] == "TK-00001"
    assert body["status"] == "RECEIVED"
    assert ISO_MS_Z.match(body["createdAt"])
    created = dt.datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 60
    assert len(body["trackingToken"]) >= 40
    assert body["trackingUrl"] == (
        f"https://desk.example.test/track/TK-00001?token={body['trackingToken']}"
    )
    assert resp.headers["Location"] == "/api/tickets/TK-00001"
    assert set(body) == {"publicId", "status", "createdAt", "trackingToken", "trackingUrl"}


async def test_public_ids_are_sequential_and_zero_padded(client, product):
    ids = []
    for _ in range(3):
        resp = await submit(client)
        ids.append((await resp.json())["publicId"])
    assert ids == ["TK-00001", "TK-00002", "TK-00003"]


def test_public_ids_grow_past_five_digits():
    from bot.rules.ids import parse_public_id, public_id

    assert public_id(42) == "TK-00042"
    assert public_id(99999) == "TK-99999"
    assert public_id(100000) == "TK-100000"
    assert parse_public_id("TK-100000") == 100000
    assert parse_public_id("tk-00042") == 42
    for bad in ("TK-42", "TK-", "42", "TK-00042x", "TK-00000", "TK-" + "9" * 30):
        assert parse_public_id(bad) is None, bad


async def test_missing_fields_are_all_reported_at_once(client, product):
    resp = await client.post("/api/tickets", json={})
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "Validation failed"
    assert body["fields"] == {
        "productSlug": "productSlug is required",
        "submitterEmail": "submitterEmail is required",
        "subject": "subject is required",
        "body": "body is required",
    }
    assert body["hint"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"submitterEmail": "not-an-email"}, "submitterEmail", "Invalid email address"),
        ({"submitterEmail": "a@b"}, "submitterEmail", "Invalid email address"),
        ({"submitterEmail": "a b@example.com"}, "submitterEmail", "Invalid email address"),
        ({"subject": "x" * 257}, "subject", "subject must be at most 256 characters"),
        ({"subject": "   "}, "subject", "subject is required"),
        ({"subject": 42}, "subject", "subject must be a string"),
        ({"body": "x" * (64 * 1024 + 1)}, "body", "body must be at most 64 KiB"),
        ({"body": ["not", "text"]}, "body", "body must be a string"),
        (
            {"screenshots": ["https://a/1", "https://a/2", "https://a/3", "https://a/4"]},
            "screenshots",
            "screenshots may hold at most 3 URLs",
        ),
        (
            {"screenshots": ["javascript:alert(1)"]},
            "screenshots",
            "screenshots[0] must be an http(s) URL",
        ),
        ({"screenshots": "https://a/1"}, "screenshots", "screenshots must be an array of URLs"),
        (
            {"submitterName": "n" * 201},
            "submitterName",
            "submitterName must be at most 200 characters",
        ),
    ],
)
async def test_each_invalid_field_is_named(client, product, overrides, field, message):
    resp = await submit(client, **overrides)
    assert resp.status == 400
    body = await resp.json()
    assert body["fields"] == {field: message}


async def test_limits_are_inclusive(client, product):
    resp = await submit(
        client, subject="s" * 256, body="b" * (64 * 1024), screenshots=["http://a.example/1"] * 3
    )
    assert resp.status == 201


async def test_unknown_product_is_404(client, product):
    resp = await submit(client, productSlug="no-such-product")
    assert resp.status == 404
    body = await resp.json()
    assert body["error"] == "Product not found"
    assert "no-such-product" in body["hint"]


async def test_malformed_json_is_400(client, product):
    resp = await client.post(
        "/api/tickets", data=b'{"subject": ', headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "Malformed JSON" and body["hint"]


@pytest.mark.parametrize("payload", [b"[]", b'"text"', b"null", b"\xff\xfe", b"", b"[" * 100000])
async def test_non_object_bodies_are_400(client, product, payload):
    resp = await client.post(
        "/api/tickets", data=payload, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert (await resp.json())["hint"]


async def test_non_json_content_type_is_415(client, product):
    resp = await client.post(
        "/api/tickets",
        data="subject=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 415
    assert (await resp.json())["error"] == "Unsupported media type"


async def test_oversized_body_is_413_and_stores_nothing(client, product):
    huge = b'{"body": "' + b"x" * (256 * 1024) + b'"}'
    resp = await client.post(
        "/api/tickets", data=huge, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert (await resp.json())["error"] == "Request body too large"
    # Nothing was stored: the next ticket is still number one.
    resp = await submit(client)
    assert (await resp.json())["publicId"] == "TK-00001"


async def test_tracking_shows_pipeline_and_history_but_nothing_private(client, product):
    created = await (await submit(client)).json()
    resp = await client.get("/api/tickets/TK-00001")
    assert resp.status == 200
    body = await resp.json()
    assert body["publicId"] == "TK-00001"
    assert body["status"] == "RECEIVED"
    assert [s["stage"] for s in body["pipeline"]] == [s.value for s in STAGES]
    first, *rest = body["pipeline"]
    assert (
        first["reached"] is True and first["reachedAt"] == created["createdAt"] and first["current"]
    )
    assert all(not s["reached"] and s["reachedAt"] is None for s in rest)
    assert body["history"] == [
        {
            "from": None,
            "to": "RECEIVED",
            "at": created["createdAt"],
            "description": "Ticket received",
        }
    ]
    assert body["createdAt"] == created["createdAt"]
    assert ISO_MS_Z.match(body["updatedAt"])
    text = await resp.text()
    for private in ("agent@example.com", "AI Agent v2", "Safari", "Reproducible", "subject"):
        assert private not in text


async def test_tracking_token_reveals_the_subject(client, product):
    created = await (await submit(client)).json()
    by_query = await (
        await client.get(f"/api/tickets/TK-00001?token={created['trackingToken']}")
    ).json()
    by_header = await (
        await client.get(
            "/api/tickets/TK-00001", headers={"X-Tracking-Token": created["trackingToken"]}
        )
    ).json()
    assert by_query["subject"] == SEED_EXAMPLE["subject"] == by_header["subject"]
    assert by_query["comments"] == []
    assert "agent@example.com" not in str(by_query)
    wrong = await (await client.get("/api/tickets/TK-00001?token=guess")).json()
    assert "subject" not in wrong and "comments" not in wrong


async def test_a_token_opens_only_its_own_ticket(client, product):
    first = await (await submit(client, subject="first")).json()
    await submit(client, subject="second")
    other = await (await client.get(f"/api/tickets/TK-00002?token={first['trackingToken']}")).json()
    assert "subject" not in other


@pytest.mark.parametrize("public_id", ["TK-00099", "TK-1", "nonsense", "TK-" + "9" * 40, "%00"])
async def test_unknown_tickets_are_404(client, product, public_id):
    await submit(client)
    resp = await client.get(f"/api/tickets/{public_id}")
    assert resp.status == 404
    assert (await resp.json())["error"] == "Ticket not found"


async def test_public_id_lookup_is_case_insensitive(client, product):
    await submit(client)
    resp = await client.get("/api/tickets/tk-00001")
    assert resp.status == 200
    assert (await resp.json())["publicId"] == "TK-00001"


async def test_tracking_url_uses_the_request_host_without_public_url(make_client, product):
    from bot.config import Settings
    from tests.conftest import ADMIN_TOKEN

    client = await make_client(Settings(admin_token=ADMIN_TOKEN))
    body = await (await submit(client)).json()
    assert body["trackingUrl"].startswith(
        f"http://{client.server.host}:{client.server.port}/track/TK-00001?token="
    )


async def test_unknown_routes_and_methods_answer_json(client):
    resp = await client.get("/api/nope")
    assert resp.status == 404
    assert (await resp.json())["hint"]
    resp = await client.put("/api/tickets")
    assert resp.status == 405
    assert "POST" in resp.headers["Allow"]


async def test_healthz_reports_database_and_github(client):
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {
        "status": "ok",
        "version": "0.1.0",
        "database": "ok",
        "github": "not configured",
    }


async def test_real_client_variations_are_accepted(client, product):
    """A charset parameter, a UTF-8 byte-order mark (PowerShell) and extra fields are fine."""
    import json

    body = json.dumps({**SEED_EXAMPLE, "priority": "ignored"}).encode()
    resp = await client.post(
        "/api/tickets", data=b"\xef\xbb\xbf" + body,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["publicId"] == "TK-00001"
