"""The admin pages: sign in and out, CSRF, products, tickets, failed deliveries and API keys."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.config import Settings
from storage.models import ApiKey, Delivery, Product
from tests.conftest import ADMIN_TOKEN
from tests.web_helpers import add_comment, csrf_token, move_ticket, open_test_ticket


async def sign_in(client) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    form = await client.get("/admin/sign-in")
    assert form.status == 200
    resp = await client.post(
        "/admin/sign-in",
        data={"csrf_token": csrf_token(await form.text()), "token": ADMIN_TOKEN},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    page = await client.get("/admin")
    assert page.status == 200
    return csrf_token(await page.text())


async def test_admin_pages_say_the_area_is_off_without_an_admin_token(make_client):
    client = await make_client(Settings())
    for path in ("/admin", "/admin/sign-in", "/admin/products"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 403, path
        assert "The admin area is off" in await resp.text()
    resp = await client.post("/admin/sign-in", data={"token": "anything"})
    assert resp.status == 403


async def test_pages_need_a_session_and_send_you_to_sign_in(client):
    resp = await client.get("/admin/products", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/admin/sign-in?next=%2Fadmin%2Fproducts"


async def test_sign_in_sets_a_strict_httponly_session_cookie_and_sign_out_ends_it(client):
    form = await client.get("/admin/sign-in?next=/admin/tickets")
    page = await form.text()
    assert 'type="password"' in page and '<label for="admin-token">' in page
    resp = await client.post(
        "/admin/sign-in?next=/admin/tickets",
        data={"csrf_token": csrf_token(page), "token": ADMIN_TOKEN},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert resp.headers["Location"] == "/admin/tickets"
    cookie = next(v for v in resp.headers.getall("Set-Cookie") if v.startswith("tinydesk_admin="))
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/admin" in cookie
    assert ADMIN_TOKEN not in cookie

    overview = await client.get("/admin")
    assert overview.status == 200
    assert overview.headers["Cache-Control"] == "no-store"
    token = csrf_token(await overview.text())
    out = await client.post("/admin/sign-out", data={"csrf_token": token}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/admin", allow_redirects=False)).status == 303
    signed_out = await client.get(out.headers["Location"])
    assert "You are signed out." in await signed_out.text()


async def test_a_wrong_token_is_refused_and_repeated_tries_are_throttled(client):
    page = await (await client.get("/admin/sign-in")).text()
    token = csrf_token(page)
    for _ in range(5):
        resp = await client.post("/admin/sign-in", data={"csrf_token": token, "token": "guess"})
        assert resp.status == 401
        assert "That is not the admin token." in await resp.text()
    blocked = await client.post("/admin/sign-in", data={"csrf_token": token, "token": ADMIN_TOKEN})
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert (await client.get("/admin", allow_redirects=False)).status == 303


async def test_sign_in_without_its_csrf_token_is_rejected(client):
    await client.get("/admin/sign-in")
    resp = await client.post("/admin/sign-in", data={"token": ADMIN_TOKEN}, allow_redirects=False)
    assert resp.status == 403
    assert (await client.get("/admin", allow_redirects=False)).status == 303


async def test_sign_in_after_next_never_leaves_the_admin_area(client):
    page = await (await client.get("/admin/sign-in")).text()
    resp = await client.post(
        "/admin/sign-in?next=//evil.example/admin",
        data={"csrf_token": csrf_token(page), "token": ADMIN_TOKEN},
        allow_redirects=False,
    )
    assert resp.headers["Location"] == "/admin"


async def test_posts_without_the_session_csrf_token_are_rejected(client, db):
    await sign_in(client)
    for data in ({}, {"csrf_token": "forged"}):
        resp = await client.post(
            "/admin/products",
            data={**data, "slug": "evil", "repo": "evil/repo"},
            allow_redirects=False,
        )
        assert resp.status == 403
        assert "That form has expired" in await resp.text()
    async with db.session() as session:
        assert (await session.scalars(select(Product))).all() == []


async def test_posts_without_a_session_are_rejected(client):
    resp = await client.post(
        "/admin/products", data={"slug": "evil", "repo": "evil/repo"}, allow_redirects=False
    )
    assert resp.status == 403


async def test_register_and_remove_a_product_through_the_forms(client, db):
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/products",
        data={
            "csrf_token": csrf,
            "slug": "acme-cloud",
            "repo": "acme/cloud",
            "name": "Acme Cloud",
            "deploymentTracking": "on",
            "productionEnvironments": "production, prod-eu",
        },
        allow_redirects=False,
    )
    assert resp.status == 303
    page = await (await client.get(resp.headers["Location"])).text()
    assert "Product acme-cloud registered." in page
    assert "<code>acme-cloud</code>" in page
    assert "acme/cloud" in page
    assert "Not installed" in page
    assert "production, prod-eu" in page
    assert 'value="" selected>By repository visibility (public: scrubbed)' in page  # default

    async with db.begin() as session:
        product = await session.scalar(select(Product).where(Product.slug == "acme-cloud"))
        assert product.production_environments == ["production", "prod-eu"]
        assert product.issue_text is None
        assert product.deployment_tracking is True
        product.installation_id = 42
    assert "Installed" in await (await client.get("/admin/products")).text()

    confirm = await client.get("/admin/products/acme-cloud/remove")
    confirm_page = await confirm.text()
    assert "Remove product <code>acme-cloud</code>?" in confirm_page
    removed = await client.post(
        "/admin/products/acme-cloud/remove",
        data={"csrf_token": csrf_token(confirm_page)},
        allow_redirects=False,
    )
    assert removed.status == 303
    assert (
        "Product acme-cloud removed" in await (await client.get(removed.headers["Location"])).text()
    )
    async with db.session() as session:
        assert (await session.scalars(select(Product))).all() == []


async def test_the_register_form_shows_every_field_error(client):
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/products",
        data={
            "csrf_token": csrf,
            "slug": "Bad Slug",
            "repo": "not-a-repo",
            "productionEnvironments": "",
        },
    )
    assert resp.status == 400
    page = await resp.text()
    assert "slug may hold only lowercase letters" in page
    assert "repo must be OWNER/NAME" in page
    assert "productionEnvironments must be" in page
    assert 'value="Bad Slug"' in page
    assert page.count('aria-invalid="true"') == 3


async def test_a_taken_slug_is_reported_on_the_form(client, product):
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/products",
        data={
            "csrf_token": csrf,
            "slug": "my-saas-app",
            "repo": "a/b",
            "productionEnvironments": "production",
        },
    )
    assert resp.status == 409
    assert "Product already exists" in await resp.text()


async def test_tickets_are_listed_newest_first_in_pages(client, product, db):
    for n in range(7):
        await open_test_ticket(db, subject=f"Ticket number {n + 1}")
    await sign_in(client)
    first = await (await client.get("/admin/tickets?limit=3")).text()
    assert re.findall(r">(TK-\d+)</a>", first) == ["TK-00007", "TK-00006", "TK-00005"]
    older = (
        re.search(r'<a href="([^"]+)" rel="next">Older tickets</a>', first)
        .group(1)
        .replace("&amp;", "&")
    )
    assert "before=5" in older
    second = await (await client.get(older)).text()
    assert re.findall(r">(TK-\d+)</a>", second) == ["TK-00004", "TK-00003", "TK-00002"]
    assert "Newest tickets" in second
    third = await (
        await client.get(
            re.search(r'<a href="([^"]+)" rel="next"', second).group(1).replace("&amp;", "&")
        )
    ).text()
    assert re.findall(r">(TK-\d+)</a>", third) == ["TK-00001"]
    assert 'rel="next"' not in third


async def test_tickets_can_be_filtered_by_stage_and_product(client, product, db):
    csrf = await sign_in(client)
    await client.post(
        "/admin/products",
        data={
            "csrf_token": csrf,
            "slug": "other",
            "repo": "o/other",
            "productionEnvironments": "production",
        },
    )
    await open_test_ticket(db, subject="First")
    await open_test_ticket(db, subject="Second")
    await open_test_ticket(db, "other", subject="Third")
    await move_ticket(db, "TK-00002", "ISSUE_CREATED")

    by_stage = await (await client.get("/admin/tickets?stage=ISSUE_CREATED")).text()
    assert re.findall(r">(TK-\d+)</a>", by_stage) == ["TK-00002"]
    assert '<option value="ISSUE_CREATED" selected>' in by_stage
    by_product = await (await client.get("/admin/tickets?product=other")).text()
    assert re.findall(r">(TK-\d+)</a>", by_product) == ["TK-00003"]
    both = await (await client.get("/admin/tickets?product=my-saas-app&stage=RECEIVED")).text()
    assert re.findall(r">(TK-\d+)</a>", both) == ["TK-00001"]
    bad = await client.get("/admin/tickets?stage=NOPE")
    assert bad.status == 400
    assert "There is no stage" in await bad.text()


async def test_a_ticket_shows_everything_to_admins_including_internal_notes(client, product, db):
    await open_test_ticket(
        db, subject="Crash on save", email="someone@example.com", body="Full body <here>"
    )
    await move_ticket(db, "TK-00001", "ISSUE_CREATED")
    await add_comment(db, "TK-00001", "Public reply")
    await add_comment(db, "TK-00001", "Internal only", internal=True)
    await sign_in(client)
    page = await (await client.get("/admin/tickets/TK-00001")).text()
    assert "someone@example.com" in page
    assert "Full body &lt;here&gt;" in page
    assert "Public reply" in page
    # Staff see the real author, and the name the submitter sees beside it.
    assert "sam@acme.example</span> (submitters see Sam from Support)" in page
    assert "Internal only" in page and "Internal note" in page
    assert "RECEIVED → ISSUE_CREATED" in page
    assert (await client.get("/admin/tickets/TK-00099")).status == 404


async def test_a_failed_delivery_can_be_replayed(client, db):
    async with db.begin() as session:
        delivery = Delivery(
            delivery_id="d-123",
            event="pull_request",
            action="closed",
            payload="{}",
            state="failed",
            attempts=8,
            last_error="GitHub said 502 <Bad Gateway>",
        )
        session.add(delivery)
        session.add(
            Delivery(
                delivery_id="d-ok", event="issues", action="opened", payload="{}", state="done"
            )
        )
    await sign_in(client)
    page = await (await client.get("/admin/deliveries")).text()
    assert "pull_request" in page and "closed" in page and "d-123" in page
    assert "GitHub said 502 &lt;Bad Gateway&gt;" in page
    assert "d-ok" not in page
    resp = await client.post(
        f"/admin/deliveries/{delivery.id}/replay",
        data={"csrf_token": csrf_token(page)},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert "queued again" in await (await client.get(resp.headers["Location"])).text()
    async with db.session() as session:
        stored = await session.get(Delivery, delivery.id)
        assert stored.state == "pending"
        assert stored.attempts == 0
    again = await client.post(
        f"/admin/deliveries/{delivery.id}/replay",
        data={"csrf_token": csrf_token(page)},
        allow_redirects=False,
    )
    assert "no longer failed" in await (await client.get(again.headers["Location"])).text()
    assert "No failed deliveries." in await (await client.get("/admin/deliveries")).text()


async def test_api_keys_are_listed_without_their_hashes(client, product, db):
    async with db.begin() as session:
        session.add(
            ApiKey(
                public_id="key_1",
                name="Zendesk bridge",
                key_hash="f" * 64,
                display_prefix="td_live_ab12",
                product_ids=[],
            )
        )
    await sign_in(client)
    page = await (await client.get("/admin/api-keys")).text()
    assert "Zendesk bridge" in page
    assert "td_live_ab12" in page
    assert "f" * 64 not in page
    assert "Create key" in page and "Revoke" in page


async def test_a_product_is_registered_with_its_issue_text(client, db):
    csrf = await sign_in(client)
    form = await (await client.get("/admin/products")).text()
    assert '<select id="issueText" name="issueText"' in form and "Subject only" in form
    resp = await client.post(
        "/admin/products",
        data={
            "csrf_token": csrf,
            "slug": "quiet",
            "repo": "acme/quiet",
            "issueText": "subject-only",
            "productionEnvironments": "production",
        },
        allow_redirects=False,
    )
    assert resp.status == 303
    async with db.session() as session:
        product = await session.scalar(select(Product).where(Product.slug == "quiet"))
    assert product.issue_text == "subject-only"
    resp = await client.post(
        "/admin/products",
        data={
            "csrf_token": csrf,
            "slug": "loud",
            "repo": "acme/loud",
            "issueText": "all",
            "productionEnvironments": "production",
        },
    )
    assert resp.status == 400 and "issueText must be one of" in await resp.text()


async def test_a_product_s_issue_text_is_changed_on_the_page(client, db, product):
    csrf = await sign_in(client)
    url = "/admin/products/my-saas-app/issue-text"
    resp = await client.post(
        url, data={"csrf_token": csrf, "issueText": "full"}, allow_redirects=False
    )
    assert resp.status == 303
    page = await (await client.get(resp.headers["Location"])).text()
    assert "Issue text of my-saas-app changed" in page
    assert 'value="full" selected>Full text' in page
    refused = await client.post(url, data={"csrf_token": csrf, "issueText": "everything"})
    assert refused.status == 400 and "issueText must be one of" in await refused.text()
    assert (await client.post(url, data={"issueText": "full"})).status == 403  # no CSRF token
    missing = await client.post(
        "/admin/products/nope/issue-text", data={"csrf_token": csrf, "issueText": "full"}
    )
    assert missing.status == 404
    await client.post(url, data={"csrf_token": csrf, "issueText": ""})
    async with db.session() as session:
        stored = await session.scalar(select(Product).where(Product.slug == "my-saas-app"))
    assert stored.issue_text is None  # back to the default
