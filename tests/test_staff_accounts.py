"""Staff accounts (issue 19, item 1): an admin invites a person, who sets a password through
the link (stored as argon2id, never in clear) and signs in through the form with its CSRF
token; wrong passwords say nothing about which part was wrong and are throttled; sessions are
server-side, signed out here or everywhere; a disabled account's sessions and keys stop; a
person's desk key writes as that person, and a viewer's key only reads."""

from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import select

from bot.config import RateLimits, Settings
from bot.jobs.worker import WORKERS
from storage.models import Comment, StaffAccount, StaffSession
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.deskkit import bearer
from tests.mail_sink import MailSink

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def client(make_client):
    return await make_client(Settings(admin_token=ADMIN_TOKEN, run_workers=False))


async def invite(client, email="ada@support.test", name="Ada", role="agent") -> dict:
    resp = await client.post(
        "/api/admin/staff", json={"email": email, "name": name, "role": role}, headers=ADMIN_HEADERS
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def accept(client, link: str, password: str = PASSWORD, expect: int = 303):
    path = link[link.index("/desk/invite/") :]
    page = await client.get(path)
    assert page.status == 200, await page.text()
    token = CSRF.search(await page.text()).group(1)
    resp = await client.post(
        path, data={"csrf_token": token, "password": password}, allow_redirects=False
    )
    assert resp.status == expect, await resp.text()
    return resp


async def sign_in(client, email="ada@support.test", password=PASSWORD, expect: int = 303):
    page = await client.get("/desk/sign-in")
    token = CSRF.search(await page.text()).group(1)
    resp = await client.post(
        "/desk/sign-in",
        data={"csrf_token": token, "email": email, "password": password},
        allow_redirects=False,
    )
    assert resp.status == expect, await resp.text()
    return resp


async def test_an_invited_person_sets_a_password_and_signs_in(client, db):
    invited = await invite(client)
    assert invited["id"].startswith("stf_") and invited["passwordSet"] is False
    assert "/desk/invite/" in invited["link"]
    assert "hash" not in str(invited).lower()  # nothing of a password or a token's hash
    await accept(client, invited["link"])  # signed in right away
    inbox = await client.get("/desk")
    assert inbox.status == 200 and "Signed in as Ada (agent)" in await inbox.text()
    async with db.session() as session:
        account = await session.scalar(select(StaffAccount))
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    # The link is spent.
    page = await client.get(invited["link"][invited["link"].index("/desk/invite/") :])
    assert page.status == 410
    # Signed out, then in again through the form.
    client.session.cookie_jar.clear()
    assert (await client.get("/desk", allow_redirects=False)).status == 303
    await sign_in(client)
    assert (await client.get("/desk")).status == 200


async def test_a_wrong_password_or_address_says_the_same_and_is_throttled(make_client):
    limited = Settings(admin_token=ADMIN_TOKEN, run_workers=False, rate_limits=RateLimits())
    client = await make_client(limited)
    await accept(client, (await invite(client))["link"])
    client.session.cookie_jar.clear()
    wrong_password = await sign_in(client, password="not the password", expect=401)
    wrong_address = await sign_in(client, email="nobody@support.test", expect=401)
    message = "That email and password do not match an account."
    assert message in await wrong_password.text() and message in await wrong_address.text()
    for _ in range(8):
        await sign_in(client, password="still wrong", expect=401)
    throttled = await sign_in(client, expect=429)  # even the right password waits
    assert "Retry-After" in throttled.headers


async def test_a_short_password_is_refused_and_the_link_kept(client):
    invited = await invite(client)
    refused = await accept(client, invited["link"], password="short", expect=400)
    assert "at least" in await refused.text() or "12" in await refused.text()
    await accept(client, invited["link"])


async def test_sign_out_everywhere_ends_every_session(client, db, make_client):
    invited = await invite(client)
    await accept(client, invited["link"])
    other = await make_client(Settings(admin_token=ADMIN_TOKEN, run_workers=False))
    await sign_in(other)
    async with db.session() as session:
        assert len((await session.scalars(select(StaffSession))).all()) == 2
    page = await (await client.get("/desk")).text()
    token = CSRF.search(page).group(1)
    resp = await client.post(
        "/desk/sign-out-everywhere", data={"csrf_token": token}, allow_redirects=False
    )
    assert resp.status == 303
    assert (await other.get("/desk", allow_redirects=False)).status == 303
    async with db.session() as session:
        assert (await session.scalars(select(StaffSession))).all() == []


async def test_a_post_without_the_sessions_csrf_token_changes_nothing(client, db):
    await accept(client, (await invite(client))["link"])
    resp = await client.post("/desk/sign-out-everywhere", data={}, allow_redirects=False)
    assert resp.status == 403
    async with db.session() as session:
        assert len((await session.scalars(select(StaffSession))).all()) == 1


async def test_disabling_an_account_ends_its_sessions_and_keys(client, db):
    invited = await invite(client)
    await accept(client, invited["link"])
    resp = await client.post(
        "/api/admin/keys", json={"name": "ada's key", "staff": invited["id"]}, headers=ADMIN_HEADERS
    )
    assert resp.status == 201, await resp.text()
    key = bearer(await resp.json())
    assert (await client.get("/api/v1/desk/tickets", headers=key)).status == 200
    resp = await client.delete(f"/api/admin/staff/{invited['id']}", headers=ADMIN_HEADERS)
    assert (await resp.json())["disabledAt"] is not None
    # Gone for every change; still listed.
    for method, url in (
        ("PATCH", f"/api/admin/staff/{invited['id']}"),
        ("POST", f"/api/admin/staff/{invited['id']}/link"),
        ("DELETE", f"/api/admin/staff/{invited['id']}"),
    ):
        gone = await client.request(method, url, json={"name": "X"}, headers=ADMIN_HEADERS)
        assert gone.status == 404, method
    listed = await (await client.get("/api/admin/staff", headers=ADMIN_HEADERS)).json()
    assert listed["staff"][0]["disabledAt"] is not None
    assert (await client.get("/desk", allow_redirects=False)).status == 303
    assert (await client.get("/api/v1/desk/tickets", headers=key)).status == 401
    client.session.cookie_jar.clear()
    await sign_in(client, expect=401)


async def test_a_persons_key_writes_as_them_and_a_viewers_key_only_reads(client, db):
    agent = await invite(client, "bo@support.test", "Bo from Support", "agent")
    viewer = await invite(client, "vi@support.test", "Vi", "viewer")
    keys = {}
    for who in (agent, viewer):
        resp = await client.post(
            "/api/admin/keys", json={"name": "k", "staff": who["id"]}, headers=ADMIN_HEADERS
        )
        keys[who["id"]] = bearer(await resp.json())
    body = {"subject": "Printer", "body": "On fire", "email": "c@example.com"}
    resp = await client.post("/api/v1/desk/tickets", json=body, headers=keys[agent["id"]])
    assert resp.status == 201, await resp.text()
    ticket = await resp.json()
    resp = await client.post(
        f"/api/v1/desk/tickets/{ticket['id']}/comments",
        json={"body": "On it."},
        headers=keys[agent["id"]],
    )
    assert resp.status == 201
    async with db.session() as session:
        comment = await session.scalar(select(Comment))
    assert comment.author == "bo@support.test" and comment.public_author == "Bo from Support"
    assert (await client.get("/api/v1/desk/tickets", headers=keys[viewer["id"]])).status == 200
    refused = await client.patch(
        f"/api/v1/desk/tickets/{ticket['id']}", json={"priority": "low"}, headers=keys[viewer["id"]]
    )
    assert refused.status == 403 and "viewer" in (await refused.json())["hint"]


async def test_admins_change_roles_and_send_new_links(client):
    invited = await invite(client, role="viewer")
    changed = await client.patch(
        f"/api/admin/staff/{invited['id']}", json={"role": "admin"}, headers=ADMIN_HEADERS
    )
    assert (await changed.json())["role"] == "admin"
    bad = await client.patch(
        f"/api/admin/staff/{invited['id']}", json={"role": "root"}, headers=ADMIN_HEADERS
    )
    assert bad.status == 400 and "role" in (await bad.json())["fields"]
    dup = await client.post(
        "/api/admin/staff", json={"email": "ADA@support.test", "name": "A"}, headers=ADMIN_HEADERS
    )
    assert dup.status == 409
    link = await (
        await client.post(f"/api/admin/staff/{invited['id']}/link", headers=ADMIN_HEADERS)
    ).json()
    assert link["link"] != invited["link"]
    # The first link no longer works; the new one does.
    old = await client.get(invited["link"][invited["link"].index("/desk/invite/") :])
    assert old.status == 410
    await accept(client, link["link"])
    listed = await (await client.get("/api/admin/staff", headers=ADMIN_HEADERS)).json()
    assert [s["passwordSet"] for s in listed["staff"]] == [True]


async def test_the_inbox_shows_what_the_persons_scope_allows(client):
    for slug in ("alpha", "beta"):
        resp = await client.post(
            "/api/admin/products", json={"slug": slug, "repo": f"o/{slug}"}, headers=ADMIN_HEADERS
        )
        assert resp.status == 201
    key = await client.post("/api/admin/keys", json={"name": "intake"}, headers=ADMIN_HEADERS)
    intake = bearer(await key.json())
    for slug in ("alpha", "beta"):
        body = {"subject": f"{slug} ticket", "body": "b", "email": "c@x.test", "productSlug": slug}
        assert (await client.post("/api/v1/desk/tickets", json=body, headers=intake)).status == 201
    resp = await client.post(
        "/api/admin/staff",
        json={"email": "al@support.test", "name": "Al", "products": ["alpha"]},
        headers=ADMIN_HEADERS,
    )
    await accept(client, (await resp.json())["link"])
    page = await (await client.get("/desk")).text()
    assert "alpha ticket" in page and "beta ticket" not in page
    closed = await (await client.get("/desk?status=closed")).text()
    assert "No tickets in this view." in closed


async def test_an_account_id_no_column_holds_is_a_404(client):
    for ref in ("stf_a%00b", "stf_", "nope"):
        resp = await client.patch(
            f"/api/admin/staff/{ref}", json={"name": "x"}, headers=ADMIN_HEADERS
        )
        assert resp.status == 404, ref


LINK = re.compile(r"https?://\S+/desk/invite/[A-Za-z0-9_-]+")


def mail_settings(sink) -> Settings:
    base = Settings(
        admin_token=ADMIN_TOKEN, public_url="https://desk.example.test", run_workers=False
    )
    mail = dataclasses.replace(
        base.mail, mail_from="support@example.com", smtp_url=sink.url, coalesce_seconds=0.0
    )
    return dataclasses.replace(base, mail=mail)


def link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return LINK.search(text).group(0).replace("https://desk.example.test", "")


async def test_links_are_mailed_when_tinydesk_sends_mail(make_client):
    async with MailSink() as sink:
        client = await make_client(mail_settings(sink))
        invited = await invite(client, "mo@support.test", "Mo")
        assert invited["mailed"] is True
        await client.app[WORKERS].drain()
        [welcome] = sink.messages
        assert welcome["To"] == "mo@support.test" and welcome["Auto-Submitted"] == "auto-generated"
        assert "invited" in welcome["Subject"]
        await accept(client, link_in(welcome))
        client.session.cookie_jar.clear()
        # Forgot: an unknown address and a known one get the same page; only one mail goes.
        for email in ("nobody@support.test", "mo@support.test"):
            page = await client.get("/desk/forgot")
            token = CSRF.search(await page.text()).group(1)
            resp = await client.post("/desk/forgot", data={"csrf_token": token, "email": email})
            assert resp.status == 200 and "If an account has this address" in await resp.text()
        await client.app[WORKERS].drain()
        [_, reset] = sink.messages
        assert reset["To"] == "mo@support.test" and "Reset" in reset["Subject"]
        await sign_in(client, "mo@support.test")  # the old password works until the link is used
        client.session.cookie_jar.clear()
        await accept(client, link_in(reset), password="a brand new passphrase")
        client.session.cookie_jar.clear()
        await sign_in(client, "mo@support.test", expect=401)
        await sign_in(client, "mo@support.test", password="a brand new passphrase")


async def test_without_mail_the_link_is_only_in_the_admins_answer(client):
    invited = await invite(client)
    assert invited["mailed"] is False and "/desk/invite/" in invited["link"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x@support.test", "name": "X", "role": {}},
        {"email": "x@support.test", "name": "X", "role": ["admin"]},
        {"email": "x@support.test", "name": "X", "products": {}},
        {"email": "x@support.test", "name": "X", "products": "alpha"},
    ],
)
async def test_an_invitation_of_the_wrong_shape_is_a_400(client, body):
    resp = await client.post("/api/admin/staff", json=body, headers=ADMIN_HEADERS)
    assert resp.status == 400, await resp.text()
    assert set((await resp.json())["fields"]) & {"role", "products"}
