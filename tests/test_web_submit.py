"""The submission form /submit/{productSlug}: it opens tickets exactly as POST /api/tickets does,
shows the API's own message beside each field with the values kept, and refuses (storing
nothing) a missing or wrong form token, a filled honeypot, callers over the create limit,
unknown products and text no database can store."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import re
import time
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from bot.config import RateLimits
from bot.http.middleware import CONTENT_SECURITY_POLICY
from bot.web import submit
from storage.models import Ticket
from tests.conftest import ADMIN_HEADERS

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = "application/x-www-form-urlencoded"

GOOD = {
    "email": "ada@example.com",
    "name": "Ada",
    "subject": "Login button unresponsive on Safari",
    "body": "Steps:\n1. Open Safari 17\n2. Click Sign In\n",
}


async def ticket_count(db) -> int:
    async with db.session() as session:
        return (await session.scalar(select(func.count()).select_from(Ticket))) or 0


async def open_form(client, slug: str = "my-saas-app") -> str:
    resp = await client.get(f"/submit/{slug}")
    assert resp.status == 200
    return TOKEN.search(await resp.text()).group(1)


def encode(fields: dict[str, str] | list[tuple[str, str]]) -> str:
    pairs = fields.items() if isinstance(fields, dict) else fields
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)


async def post_form(client, fields, slug: str = "my-saas-app", *, token: str | None = "fetch"):
    """POST the form as a browser does; ``token="fetch"`` takes it from a fresh GET first."""
    if token == "fetch":
        token = await open_form(client, slug)
    pairs = list(fields.items() if isinstance(fields, dict) else fields)
    if token is not None:
        pairs.append(("csrf_token", token))
    return await client.post(f"/submit/{slug}", data=encode(pairs), headers={"Content-Type": FORM})


async def api_errors(client, body: dict) -> dict[str, str]:
    resp = await client.post("/api/tickets", json={"productSlug": "my-saas-app", **body})
    assert resp.status == 400
    return (await resp.json())["fields"]


async def test_picker_lists_products_by_name_linking_to_their_forms(client, product):
    await client.post(
        "/api/admin/products",
        json={"slug": "zz-billing", "repo": "octo-org/billing", "name": "Accounts"},
        headers=ADMIN_HEADERS,
    )
    page = await (await client.get("/submit")).text()
    assert '<a href="/submit/zz-billing">Accounts</a>' in page
    assert '<a href="/submit/my-saas-app">My SaaS App</a>' in page
    # by name, not by slug
    assert page.index("Accounts") < page.index("My SaaS App")


async def test_picker_without_products_says_so(client):
    resp = await client.get("/submit")
    assert resp.status == 200
    assert "No products are registered yet." in await resp.text()


async def test_landing_page_links_to_the_form(client):
    page = await (await client.get("/")).text()
    assert 'class="button" href="/submit">Submit a ticket</a>' in page


async def test_form_page_has_labelled_fields_a_token_and_a_strict_cookie(client, product):
    resp = await client.get("/submit/my-saas-app")
    page = await resp.text()
    assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert resp.headers["Cache-Control"] == "no-store"
    for name in ("email", "name", "subject", "body"):
        assert f'<label for="submit-{name}">' in page
        assert f'id="submit-{name}" name="{name}"' in page
    assert page.count('name="screenshot"') == 3
    assert "<fieldset" in page and "<legend>About you</legend>" in page
    assert "<script" not in page  # works without JavaScript
    assert TOKEN.search(page)
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(f"{submit.FORM_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/submit" in cookie


async def test_a_submission_opens_a_ticket_and_shows_its_id_and_tracking_link(client, product, db):
    fields = [*GOOD.items(), ("screenshot", "https://cdn.example.com/a.png"), ("screenshot", "")]
    resp = await post_form(client, fields)
    assert resp.status == 200
    page = await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    public_id = re.search(r'id="public-id">(TK-\d+)<', page).group(1)
    link = html.unescape(re.search(r'id="tracking-link" href="([^"]+)"', page).group(1))
    assert link.startswith(f"https://desk.example.test/track/{public_id}?token=")
    assert "Keep this link." in page
    async with db.session() as session:
        ticket = (await session.scalars(select(Ticket))).one()
    assert (ticket.subject, ticket.body, ticket.submitter_email, ticket.submitter_name) == (
        GOOD["subject"],
        GOOD["body"],
        GOOD["email"],
        GOOD["name"],
    )
    assert ticket.screenshots == ["https://cdn.example.com/a.png"]
    assert ticket.source_type == "frontend"
    # the link's token shows the subject, as the API's trackingUrl does
    tracked = await client.get(link.removeprefix("https://desk.example.test"))
    assert GOOD["subject"] in await tracked.text()


async def test_the_description_is_stored_as_typed(client, product, db):
    body = "  indented first line\nsecond line\n"
    resp = await post_form(client, {**GOOD, "body": body})
    assert resp.status == 200
    async with db.session() as session:
        assert (await session.scalars(select(Ticket.body))).one() == body


@pytest.mark.parametrize(
    ("changed", "api_body", "field"),
    [
        ({"email": ""}, {"submitterEmail": ""}, "email"),
        ({"email": "not-an-email"}, {"submitterEmail": "not-an-email"}, "email"),
        ({"subject": "   "}, {"subject": "   "}, "subject"),
        ({"subject": "x" * 10_240}, {"subject": "x" * 10_240}, "subject"),
        ({"body": ""}, {"body": ""}, "body"),
        ({"body": "é" * 33_000}, {"body": "é" * 33_000}, "body"),
        ({"name": "n" * 201}, {"submitterName": "n" * 201}, "name"),
    ],
)
async def test_each_invalid_field_gets_the_apis_message_beside_it_and_nothing_is_stored(
    client, product, db, changed, api_body, field
):
    api_field = {v: k for k, v in submit.FORM_FIELDS.items()}[field]
    expected = (await api_errors(client, {**_api(GOOD), **api_body}))[api_field]
    resp = await post_form(client, {**GOOD, **changed})
    assert resp.status == 400
    page = await resp.text()
    assert f'<p class="field-error" id="{field}-error">{html.escape(expected)}</p>' in page
    assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true"' in page
    assert f'<a href="#submit-{field}">' in page  # the summary links to the field
    for other, value in GOOD.items():  # every value is kept
        if other not in changed and other != "body":
            assert f'value="{html.escape(value)}"' in page
    assert await ticket_count(db) == 0


def _api(fields: dict[str, str]) -> dict[str, str]:
    return {
        "submitterEmail": fields["email"],
        "submitterName": fields["name"],
        "subject": fields["subject"],
        "body": fields["body"],
    }


async def test_every_invalid_field_is_reported_at_once_and_the_values_kept(client, product, db):
    resp = await post_form(
        client, {"email": "nope", "name": "", "subject": "", "body": "<b>kept</b>"}
    )
    page = await resp.text()
    assert resp.status == 400
    for field in ("email", "subject"):
        assert f'id="{field}-error"' in page
    assert 'value="nope"' in page
    assert "&lt;b&gt;kept&lt;/b&gt;</textarea>" in page
    assert await ticket_count(db) == 0


@pytest.mark.parametrize(
    ("urls", "message"),
    [
        (["ftp://example.com/a.png"], "screenshots[0] must be an http(s) URL"),
        (["https://e.com/1", "javascript:alert(1)"], "screenshots[1] must be an http(s) URL"),
        (["https://e.com/1"] * 4, "screenshots may hold at most 3 URLs"),
    ],
)
async def test_bad_screenshot_links_get_the_apis_message_and_are_kept(
    client, product, db, urls, message
):
    assert (await api_errors(client, {**_api(GOOD), "screenshots": urls}))["screenshots"] == message
    resp = await post_form(client, [*GOOD.items(), *(("screenshot", u) for u in urls)])
    assert resp.status == 400
    page = await resp.text()
    assert f'id="screenshots-error">{html.escape(message)}</p>' in page
    assert f'<a href="#submit-screenshot-1">{html.escape(message)}</a>' in page
    assert f'value="{html.escape(urls[-1])}"' in page or len(urls) > 3
    assert await ticket_count(db) == 0


async def test_a_filled_honeypot_looks_like_success_stores_nothing_and_is_logged(
    client, product, db, caplog
):
    with caplog.at_level(logging.INFO, logger="bot.web.submit"):
        resp = await post_form(client, {**GOOD, submit.HONEYPOT_FIELD: "http://spam.example"})
    assert resp.status == 200
    page = await resp.text()
    assert "<h1>Ticket received</h1>" in page
    assert "tracking-link" not in page
    assert await ticket_count(db) == 0
    assert any("honeypot" in record.getMessage() for record in caplog.records)


async def test_a_post_without_the_form_token_changes_nothing(client, product, db):
    resp = await post_form(client, GOOD, token=None)
    assert resp.status == 403
    page = await resp.text()
    assert submit.EXPIRED_MESSAGE in page
    assert f'value="{GOOD["subject"]}"' in page  # shown again, ready to send
    assert TOKEN.search(page)
    assert await ticket_count(db) == 0


@pytest.mark.parametrize(
    "token",
    ["", "garbage", f"{int(time.time())}.{'0' * 64}", "\uff11\uff12\uff13.abc", "9" * 300],
)
async def test_a_wrong_form_token_changes_nothing(client, product, db, token):
    await open_form(client)  # the browser has its cookie
    resp = await post_form(client, GOOD, token=token)
    assert resp.status == 403
    assert await ticket_count(db) == 0


async def test_a_token_without_its_cookie_changes_nothing(client, product, db):
    token = await open_form(client)
    client.session.cookie_jar.clear()
    resp = await post_form(client, GOOD, token=token)
    assert resp.status == 403
    assert await ticket_count(db) == 0


async def test_a_token_for_another_product_changes_nothing(client, product, db):
    await client.post(
        "/api/admin/products",
        json={"slug": "other", "repo": "octo-org/other", "name": "Other"},
        headers=ADMIN_HEADERS,
    )
    token = await open_form(client, "other")
    resp = await post_form(client, GOOD, token=token)
    assert resp.status == 403
    assert await ticket_count(db) == 0


async def test_an_expired_form_token_changes_nothing(client, product, db, monkeypatch):
    token = await open_form(client)
    later = time.time() + submit.FORM_TOKEN_LIFETIME + 5
    monkeypatch.setattr(submit.time, "time", lambda: later)
    resp = await post_form(client, GOOD, token=token)
    assert resp.status == 403
    assert await ticket_count(db) == 0


async def test_a_token_signed_by_another_server_key_changes_nothing(
    make_client, product, db, settings
):
    first = await make_client(settings)
    token = await open_form(first)
    cookies = {c.key: c.value for c in first.session.cookie_jar}
    other = await make_client(dataclasses.replace(settings, secret_key="s" * 40))
    other.session.cookie_jar.update_cookies(cookies)
    resp = await post_form(other, GOOD, token=token)
    assert resp.status == 403
    assert await ticket_count(db) == 0


async def test_the_per_address_create_limit_answers_429_with_retry_after(make_client, db, settings):
    limited = dataclasses.replace(settings, rate_limits=RateLimits(public_creates_per_minute=1))
    client = await make_client(limited)
    await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app", "name": "My SaaS App"},
        headers=ADMIN_HEADERS,
    )
    assert (await post_form(client, GOOD)).status == 200
    resp = await post_form(client, {**GOOD, "subject": "Second one"})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    page = await resp.text()
    assert "Too many requests" in page
    assert 'value="Second one"' in page
    assert await ticket_count(db) == 1
    # the API and the form share the one per-address budget
    api = await client.post("/api/tickets", json={"productSlug": "my-saas-app", **_api(GOOD)})
    assert api.status == 429


@pytest.mark.parametrize("method", ["get", "post"])
async def test_an_unknown_product_is_a_404_page(client, product, db, method):
    resp = await getattr(client, method)(
        "/submit/no-such-product", data=encode(GOOD), headers={"Content-Type": FORM}
    )
    assert resp.status == 404
    assert resp.content_type == "text/html"
    page = await resp.text()
    assert "<code>no-such-product</code>" in page and 'href="/submit"' in page
    assert await ticket_count(db) == 0


async def test_an_overlong_slug_is_a_404_page(client):
    resp = await client.get("/submit/" + "a" * 500)
    assert resp.status == 404


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("subject=%ED%A0%80", "Malformed form"),  # a lone surrogate, as UTF-8 cannot carry it
        ("subject=a%00b", "subject must not contain NUL characters"),
        ("subject=%FF", "Malformed form"),
    ],
)
async def test_unstorable_text_is_a_4xx_page_and_nothing_is_stored(client, product, db, raw, error):
    token = await open_form(client)
    body = f"{encode(GOOD).replace('subject=', 'x=')}&{raw}&csrf_token={quote(token)}"
    resp = await client.post("/submit/my-saas-app", data=body, headers={"Content-Type": FORM})
    assert resp.status == 400
    assert resp.content_type == "text/html"
    assert html.escape(error) in await resp.text()
    assert await ticket_count(db) == 0


async def test_a_body_that_is_not_a_form_is_a_415_page(client, product, db):
    resp = await client.post("/submit/my-saas-app", json=_api(GOOD))
    assert resp.status == 415
    assert resp.content_type == "text/html"
    assert await ticket_count(db) == 0


async def test_a_description_at_the_apis_limit_fits_in_the_form(client, product, db):
    body = "é" * (64 * 1024 // 2)  # 64 KiB of UTF-8, 192 KiB once percent-encoded
    resp = await post_form(client, {**GOOD, "body": body})
    assert resp.status == 200
    assert await ticket_count(db) == 1


async def test_text_is_escaped_when_shown_again(client, product):
    resp = await post_form(client, {**GOOD, "email": "", "subject": '"><script>x</script>'})
    page = await resp.text()
    assert "<script>x" not in page
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page


async def raw_exchange(client, request: bytes) -> bytes:
    """``request`` over a socket as it is: an HTTP client will not send bytes that are not
    UTF-8 in a path or a header."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    try:
        writer.write(request)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()


@pytest.mark.parametrize("slug", ["a%00b", "%ED%A0%80", "x" * 65])
async def test_a_slug_no_product_can_have_is_a_404_page(client, product, slug):
    for method in ("get", "post"):
        resp = await getattr(client, method)(f"/submit/{slug}")
        assert resp.status == 404
        assert resp.content_type == "text/html"


async def test_a_cookie_that_is_not_utf8_is_no_cookie(client, product, db):
    token = await open_form(client)
    body = f"{encode(GOOD)}&csrf_token={quote(token)}".encode()
    cookie = b"tinydesk_submit=" + b"\xed\xa0\x80" * 12
    answer = await raw_exchange(
        client,
        b"POST /submit/my-saas-app HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Cookie: " + cookie + b"\r\nContent-Type: " + FORM.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
    )
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert await ticket_count(db) == 0
