"""Every input is answered on purpose (issue 13, item 1): text no database can store (a lone
surrogate, NUL) and numbers no column can hold are a 4xx JSON answer wherever they come in,
JSON bodies, forms, query strings, paths and the webhook headers we store, on SQLite and
PostgreSQL (the ``client`` fixture runs on both). Each test is one of the issue's curl
reproductions or a sibling found while fixing them; before the fix each was a 500."""

from __future__ import annotations

import json

import pytest

from bot.rules.numbers import MAX_ISSUE_NUMBER, MAX_ROW_ID, bounded_int, whole_number
from tests.conftest import ADMIN_HEADERS
from tests.deskkit import bearer, make_key

TICKET = {
    "productSlug": "my-saas-app",
    "submitterEmail": "agent@example.com",
    "subject": "Login button unresponsive",
    "body": "Steps: open Safari 17, click Sign In.",
}
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
