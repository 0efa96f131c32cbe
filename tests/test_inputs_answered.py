"""Every input is answered on purpose (issue 13, item 1): text no database can store (a lone
surrogate, NUL) and numbers no column can hold are a 4xx JSON answer wherever they come in,
JSON bodies, forms, query strings, paths and the webhook headers we store, on SQLite and
PostgreSQL (the ``client`` fixture runs on both). Each test is one of the issue's curl
reproductions or a sibling found while fixing them; before the fix each was a 500."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest

from bot.rules.numbers import MAX_ISSUE_NUMBER, MAX_ROW_ID, bounded_int, whole_number
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import SEED_TICKET, bearer, create_ticket, make_key
from tests.test_web_admin import sign_in
from tests.web_helpers import csrf_token

TICKET = {
    "productSlug": "my-saas-app",
    "submitterEmail": "agent@example.com",
    "subject": "Login button unresponsive",
    "body": "Steps: open Safari 17, click Sign In.",
}
LONE_SURROGATE = '"s\\udbcb"'  # the JSON text of a string holding U+DBCB alone
HUGE = "9223372036854775808"  # 2**63: one past the largest BIGINT
THOUSANDS_OF_DIGITS = "9" * 5000  # past int()'s 4,300-digit limit


def raw_json(template: dict, field: str, json_text: str) -> bytes:
    """``template`` as JSON with ``field`` set to the JSON text ``json_text`` verbatim
    (``json.dumps`` would never write a lone surrogate escape itself)."""
    body = json.dumps({**template, field: "@@"})
    return body.replace('"@@"', json_text).encode()


async def assert_error(resp, status: int, *, field: str | None = None) -> dict:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["error"] and body["hint"]
    if field is not None:
        assert field in body["fields"], body
    return body


# -- text in JSON bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["subject", "body", "submitterName", "submitterEmail"])
async def test_a_lone_surrogate_in_a_submission_is_a_400_naming_the_field(client, product, field):
    resp = await client.post(
        "/api/tickets",
        data=raw_json(TICKET, field, LONE_SURROGATE),
        headers={"Content-Type": "application/json"},
    )
    body = await assert_error(resp, 400, field=field)
    assert "surrogate" in body["fields"][field]


async def test_nul_anywhere_in_a_body_is_a_400_with_the_path(client, product):
    resp = await client.post(
        "/api/tickets", json={**TICKET, "screenshots": ["https://a.example/x", "b\x00"]}
    )
    body = await assert_error(resp, 400, field="screenshots[1]")
    assert body["error"] == "screenshots[1] must not contain NUL characters"


async def test_a_lone_surrogate_in_a_key_is_refused_too(client, product):
    resp = await client.post(
        "/api/tickets",
        data=json.dumps(TICKET)[:-1].encode() + b', "x\\ud800": 1}',
        headers={"Content-Type": "application/json"},
    )
    body = await assert_error(resp, 400)
    assert "x\\ud800" in body["fields"]


async def test_surrogates_and_nul_are_refused_on_every_desk_write(client, product):
    key = await make_key(client)
    ticket = await create_ticket(client, key)
    writes = [
        ("POST", "/api/v1/desk/tickets", SEED_TICKET, "subject"),
        ("POST", "/api/v1/desk/tickets", SEED_TICKET, "tags"),
        ("PATCH", f"/api/v1/desk/tickets/{ticket['id']}", {}, "category"),
        ("PATCH", f"/api/v1/desk/tickets/{ticket['id']}", {}, "tags"),
        ("POST", f"/api/v1/desk/tickets/{ticket['id']}/comments", {}, "body"),
    ]
    for method, path, template, field in writes:
        for bad in (LONE_SURROGATE, '"a\\u0000b"'):
            value, where = (f"[{bad}]", "tags[0]") if field == "tags" else (bad, field)
            resp = await client.request(
                method,
                path,
                data=raw_json(template, field, value),
                headers={**bearer(key), "Content-Type": "application/json"},
            )
            await assert_error(resp, 400, field=where)


async def test_surrogates_are_refused_on_admin_writes(client, product):
    for path, template, field in [
        ("/api/admin/keys", {"name": "n"}, "name"),
        ("/api/admin/products", {"slug": "p", "repo": "o/p"}, "name"),
    ]:
        resp = await client.post(
            path,
            data=raw_json(template, field, LONE_SURROGATE),
            headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
        )
        await assert_error(resp, 400, field=field)


@pytest.mark.parametrize(
    "number",
    [THOUSANDS_OF_DIGITS, "1e400", "-1e400", "NaN", "Infinity", HUGE, "-" + HUGE + "1"],
)
async def test_numbers_no_column_holds_are_a_400_not_a_500(client, product, number):
    resp = await client.post(
        "/api/tickets",
        data=raw_json(TICKET, "subject", number),
        headers={"Content-Type": "application/json"},
    )
    body = await assert_error(resp, 400)
    assert "4300" not in body["hint"]  # Python's own message is not the client's business


# -- integers in paths, queries, cursors and bodies ---------------------------------------------


@pytest.mark.parametrize("queue", ["deliveries", "jobs"])
@pytest.mark.parametrize("before", [HUGE, THOUSANDS_OF_DIGITS, "-1", "0", "1.5", "١٢"])
async def test_queue_pages_before_a_number_no_row_has_are_400(client, queue, before):
    resp = await client.get(f"/api/admin/{queue}", params={"before": before}, headers=ADMIN_HEADERS)
    await assert_error(resp, 400)


@pytest.mark.parametrize("queue", ["deliveries", "jobs"])
async def test_the_largest_row_id_is_a_valid_page_start(client, queue):
    resp = await client.get(
        f"/api/admin/{queue}", params={"before": str(MAX_ROW_ID)}, headers=ADMIN_HEADERS
    )
    assert resp.status == 200
    assert (await resp.json())[queue] == []


@pytest.mark.parametrize("queue", ["deliveries", "jobs"])
@pytest.mark.parametrize("row_id", [HUGE, THOUSANDS_OF_DIGITS, str(MAX_ROW_ID)])
async def test_replaying_an_id_no_row_has_is_404(client, queue, row_id):
    resp = await client.post(f"/api/admin/{queue}/{row_id}/replay", headers=ADMIN_HEADERS)
    await assert_error(resp, 404)


@pytest.mark.parametrize("issue", [2**40, MAX_ISSUE_NUMBER + 1, 0, -1, True, 1.5, "12"])
async def test_linking_to_an_issue_number_github_cannot_have_is_400(client, product, issue):
    resp = await client.post("/api/tickets", json=TICKET)
    public_id = (await resp.json())["publicId"]
    resp = await client.post(
        f"/api/admin/tickets/{public_id}/link", json={"issue": issue}, headers=ADMIN_HEADERS
    )
    await assert_error(resp, 400, field="issue")


@pytest.mark.parametrize(
    "public_id",
    ["TK-99999999999999999999", "TK-" + THOUSANDS_OF_DIGITS, "TK-%00", "TK-%ED%A0%80", "TK-١٢٣٤٥"],
)
async def test_public_ids_no_ticket_can_have_are_404(client, product, public_id):
    for path in (f"/api/tickets/{public_id}", f"/api/admin/tickets/{public_id}/link"):
        resp = await client.request(
            "GET" if "link" not in path else "POST", path, json={"issue": 1}, headers=ADMIN_HEADERS
        )
        await assert_error(resp, 404)
    page = await client.get(f"/track/{public_id}")
    assert page.status == 404


async def test_desk_list_limits_and_cursors_out_of_range_are_400(client, product):
    key = await make_key(client)
    for params in (
        {"limit": THOUSANDS_OF_DIGITS},
        {"limit": HUGE},
        {"cursor": "eyJpZCI6OTIyMzM3MjAzNjg1NDc3NTgwOH0"},  # {"id":9223372036854775808}
        {"cursor": "eyJpZCI6MWU0MDB9"},  # {"id":1e400}
    ):
        resp = await client.get("/api/v1/desk/tickets", params=params, headers=bearer(key))
        await assert_error(resp, 400)


def test_whole_numbers_are_ascii_digits_within_bounds():
    assert whole_number("00042") == 42
    assert whole_number(str(MAX_ROW_ID)) == MAX_ROW_ID
    for text in (HUGE, THOUSANDS_OF_DIGITS, "0", "", "-1", "+1", " 1", "1_000", "١٢", "²", None):
        assert whole_number(text) is None, text
    assert whole_number("0", minimum=0) == 0
    assert whole_number("201", maximum=200) is None
    assert bounded_int(12.0) == 12 and bounded_int(True) is None and bounded_int(1e20) is None
    assert bounded_int(float("inf")) is None and bounded_int("1") is None


# -- query strings and paths -------------------------------------------------------------------
# yarl decodes %00 to NUL in both and leaves invalid UTF-8 in a path percent-encoded (a query
# gets U+FFFD), so NUL is what can arrive; each parameter is checked by the resource that
# reads it, which keeps its own answer (seed 001's "Ticket not found", "Invalid tag").


async def test_nul_in_a_query_string_is_a_400(client, product):
    key = await make_key(client)
    for path, headers, error in [
        ("/api/v1/desk/tickets?tag=%00", bearer(key), "Invalid tag"),
        ("/api/v1/desk/tickets?assignee=a%00b", bearer(key), "Invalid assignee"),
        ("/api/admin/deliveries?state=%00", ADMIN_HEADERS, "Invalid state"),
        ("/api/admin/jobs?state=a%00", ADMIN_HEADERS, "Invalid state"),
    ]:
        resp = await client.get(path, headers=headers)
        assert (await assert_error(resp, 400))["error"] == error


async def test_nul_in_a_path_is_a_404_of_that_resource(client, product):
    key = await make_key(client)
    for method, path, headers, error in [
        ("GET", "/api/v1/desk/tickets/tkt_%00", bearer(key), "Ticket not found"),
        ("PATCH", "/api/admin/products/my-saas-app%00", ADMIN_HEADERS, "Product not found"),
        ("DELETE", "/api/admin/products/%00", ADMIN_HEADERS, "Product not found"),
        ("PATCH", "/api/admin/keys/key_%00", ADMIN_HEADERS, "Key not found"),
        ("DELETE", "/api/admin/keys/%00", ADMIN_HEADERS, "Key not found"),
        ("POST", "/api/admin/tickets/TK-0000%00/link", ADMIN_HEADERS, "Ticket not found"),
    ]:
        body = {"issue": 1} if path.endswith("/link") else {"name": "x"}
        resp = await client.request(method, path, json=body, headers=headers)
        assert (await assert_error(resp, 404))["error"] == error


async def test_admin_pages_with_nul_in_a_slug_or_filter_are_not_a_500(client, product):
    csrf = await sign_in(client)
    for method, path in [
        ("GET", "/admin/tickets?product=%00"),
        ("GET", "/admin/tickets?stage=%00"),
        ("GET", "/admin/products/%00/remove"),
        ("POST", "/admin/products/%00/remove"),
        ("POST", "/admin/products/a%00/issue-text"),
        ("GET", "/admin/tickets/TK-%00"),
        ("GET", "/track/TK-%00"),
        ("GET", "/track?publicId=%00"),
    ]:
        resp = await client.request(method, path, data={"csrf_token": csrf})
        assert 200 <= resp.status < 500, (path, resp.status)


# -- form posts --------------------------------------------------------------------------------


async def sign_in_form(client) -> str:
    page = await client.get("/admin/sign-in")
    return csrf_token(await page.text())


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/x-www-form-urlencoded", b"token=%ED%A0%80", 400),  # UTF-8 of a surrogate
        ("application/x-www-form-urlencoded", b"token=\xff", 400),
        ("application/x-www-form-urlencoded", b"token=a%00b", 400),
        ("application/x-www-form-urlencoded; charset=utf-7", b"token=+2AA-", 415),
        ("application/x-www-form-urlencoded; charset=bogus", b"token=a", 415),
        ("multipart/form-data; boundary=x", b"--x--\r\n", 415),
    ],
)
async def test_the_sign_in_form_refuses_what_a_browser_never_sends(
    client, content_type, body, status
):
    csrf = await sign_in_form(client)
    resp = await client.post(
        "/admin/sign-in",
        data=f"csrf_token={csrf}&".encode() + body,
        headers={"Content-Type": content_type},
    )
    await assert_error(resp, status)
    # Refused before the token was compared: the sign-in limit counted nothing.
    csrf = await sign_in_form(client)
    ok = await client.post(
        "/admin/sign-in",
        data={"csrf_token": csrf, "token": ADMIN_HEADERS["Authorization"].split()[1]},
        allow_redirects=False,
    )
    assert ok.status == 303


async def test_admin_forms_refuse_nul(client, product):
    csrf = await sign_in(client)
    for path, field in [
        ("/admin/products", "name"),
        ("/admin/api-keys", "name"),
        ("/admin/products/my-saas-app/issue-text", "issueText"),
    ]:
        resp = await client.post(path, data={"csrf_token": csrf, field: "a\x00b", "slug": "p"})
        await assert_error(resp, 400, field=field)


async def test_a_form_larger_than_a_page_sends_is_413(client):
    csrf = await sign_in_form(client)
    resp = await client.post(
        "/admin/sign-in", data={"csrf_token": csrf, "token": "x" * (65 * 1024)}
    )
    await assert_error(resp, 413)


# -- webhook headers we store ------------------------------------------------------------------


def signed(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-GitHub-Delivery", "d\u00e9"),
        ("X-GitHub-Delivery", "d\tx"),
        ("X-GitHub-Delivery", "d" * 65),
        ("X-GitHub-Event", "ping\u00e9"),
        ("X-GitHub-Event", "e" * 65),
    ],
)
async def test_webhook_headers_we_store_must_be_printable_ascii(
    make_client, settings, header, value
):
    """Raw bytes that are not UTF-8 (aiohttp's lone surrogates) are sent by
    tests/test_serve_protocol.py over a socket: an HTTP client will not send them."""
    secret = "webhook-secret"
    client = await make_client(dataclasses.replace(settings, github_webhook_secret=secret))
    body = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signed(body, secret),
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "d-1",
        header: value,
    }
    resp = await client.post("/webhooks/github", data=body, headers=headers)
    await assert_error(resp, 400)


async def test_a_signed_webhook_action_with_nul_is_refused(make_client, settings):
    secret = "webhook-secret"
    client = await make_client(dataclasses.replace(settings, github_webhook_secret=secret))
    body = b'{"action": "opened\\u0000", "hook_id": 1}'
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signed(body, secret),
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "d-2",
    }
    resp = await client.post("/webhooks/github", data=body, headers=headers)
    await assert_error(resp, 400)


def test_no_page_reads_a_form_but_through_read_form():
    """``request.post()`` trusts the client's charset (UTF-7 makes lone surrogates) and reads
    25 MB; bot/http/bodies.py's ``read_form`` is the one way in."""
    root = Path(__file__).resolve().parents[1]
    offenders = [
        str(path.relative_to(root))
        for package in ("bot", "webhooks")
        for path in (root / package).rglob("*.py")
        if "sim" not in path.parts
        and path.name != "bodies.py"
        and re.search(r"request\.post\(\)", path.read_text())
    ]
    assert offenders == []
