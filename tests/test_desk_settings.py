"""Settings for staff admins (issue 19, item 4): a staff account with role admin opens the
admin console from the workspace's Settings (a CSRF-checked POST, logged with who) and uses
an admin page as itself, with or without the admin token configured; an agent sees no button
and their POST is a 403; the admin token's sign-in still works. The console is the person's
own session: signing out of the workspace or the console, being disabled or demoted ends it.
The console's Staff accounts page invites, changes, disables and enables again, and the admin
API's PATCH re-enables."""

from __future__ import annotations

import logging
import re

import pytest

from bot.config import Settings
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.test_desk_ticket_page import person
from tests.test_staff_accounts import PASSWORD, accept, sign_in
from tests.test_web_admin import sign_in as token_sign_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def client(make_client):
    return await make_client(Settings(admin_token=ADMIN_TOKEN, run_workers=False))


async def open_settings(client, next_path: str = "/admin"):
    page = await client.get("/desk/settings")
    token = CSRF.search(await page.text()).group(1)
    return await client.post(
        "/desk/settings/open",
        data={"csrf_token": token, "next": next_path},
        allow_redirects=False,
    )


async def admin_csrf(client, path: str) -> str:
    page = await client.get(path)
    assert page.status == 200, await page.text()
    return CSRF.search(await page.text()).group(1)


async def test_a_staff_admin_opens_the_console_and_uses_an_admin_page(client, caplog):
    await person(client, "root@support.test", "Ro", "admin")
    page = await (await client.get("/desk/settings")).text()
    assert 'href="/desk/settings"' in page  # in the navigation, for an admin
    assert "Open settings" in page and "SLA policies and calendars" in page
    with caplog.at_level(logging.INFO, logger="bot.web.admin_auth"):
        resp = await open_settings(client, "/admin/products")
    assert resp.status == 303 and resp.headers["Location"] == "/admin/products"
    [record] = [r for r in caplog.records if "admin console opened" in r.getMessage()]
    assert record.staff_id.startswith("stf_") and "csrf" not in str(vars(record)).lower()
    resp = await client.post(
        "/admin/products",
        data={
            "csrf_token": await admin_csrf(client, "/admin/products"),
            "slug": "app",
            "repo": "o/app",
            "productionEnvironments": "production",
        },
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    listed = await client.get("/api/admin/products", headers=ADMIN_HEADERS)
    assert [p["slug"] for p in (await listed.json())["products"]] == ["app"]


async def test_the_console_opens_for_a_staff_admin_without_an_admin_token(make_client):
    # The token is needed to invite the first admin through the API; then the server runs
    # without one and the staff admin is the only way in.
    with_token = await make_client(Settings(admin_token=ADMIN_TOKEN, run_workers=False))
    resp = await with_token.post(
        "/api/admin/staff",
        json={"email": "root@support.test", "name": "Ro", "role": "admin"},
        headers=ADMIN_HEADERS,
    )
    link = (await resp.json())["link"]
    client = await make_client(Settings(run_workers=False))
    assert (await client.get("/admin", allow_redirects=False)).status == 403  # off, no session
    await accept(client, link)
    assert (await open_settings(client)).status == 303
    overview = await client.get("/admin")
    assert overview.status == 200 and "<h1>Overview</h1>" in await overview.text()


async def console_status(client) -> int:
    return (await client.get("/admin", allow_redirects=False)).status


async def staff_id(client, email: str) -> str:
    listed = await (await client.get("/api/admin/staff", headers=ADMIN_HEADERS)).json()
    [account] = [a for a in listed["staff"] if a["email"] == email]
    return account["id"]


async def test_signing_out_of_the_workspace_closes_the_console(client):
    await person(client, "root@support.test", "Ro", "admin")
    await open_settings(client)
    assert await console_status(client) == 200
    token = CSRF.search(await (await client.get("/desk/settings")).text()).group(1)
    resp = await client.post("/desk/sign-out", data={"csrf_token": token}, allow_redirects=False)
    assert resp.status == 303
    assert await console_status(client) == 303  # to the token's sign-in: no session left


async def test_a_console_cookie_kept_after_sign_out_lets_nobody_in(client):
    await person(client, "root@support.test", "Ro", "admin")
    await open_settings(client)
    kept = {c.key: c.value for c in client.session.cookie_jar}["tinydesk_staff_console"]
    token = CSRF.search(await (await client.get("/desk/settings")).text()).group(1)
    await client.post("/desk/sign-out", data={"csrf_token": token}, allow_redirects=False)
    client.session.cookie_jar.clear()
    resp = await client.get(
        "/admin", headers={"Cookie": f"tinydesk_staff_console={kept}"}, allow_redirects=False
    )
    assert resp.status == 303 and resp.headers["Location"].startswith("/admin/sign-in")


async def test_signing_out_of_the_console_signs_the_person_out(client):
    await person(client, "root@support.test", "Ro", "admin")
    await open_settings(client)
    resp = await client.post(
        "/admin/sign-out",
        data={"csrf_token": await admin_csrf(client, "/admin")},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/desk/sign-in"
    assert await console_status(client) == 303
    desk = await client.get("/desk", allow_redirects=False)
    assert desk.status == 303 and desk.headers["Location"].startswith("/desk/sign-in")


@pytest.mark.parametrize("change", ["demoted", "disabled"])
async def test_an_admin_demoted_or_disabled_loses_the_console_at_once(client, change):
    await person(client, "root@support.test", "Ro", "admin")
    await open_settings(client)
    assert await console_status(client) == 200
    url = f"/api/admin/staff/{await staff_id(client, 'root@support.test')}"
    if change == "demoted":
        resp = await client.patch(url, json={"role": "agent"}, headers=ADMIN_HEADERS)
    else:
        resp = await client.delete(url, headers=ADMIN_HEADERS)
    assert resp.status == 200, await resp.text()
    assert await console_status(client) == 303
    refused = await client.post(
        "/admin/products", data={"slug": "app", "repo": "o/app"}, allow_redirects=False
    )
    assert refused.status == 403
    listed = await client.get("/api/admin/products", headers=ADMIN_HEADERS)
    assert (await listed.json())["products"] == []


async def test_an_agent_sees_no_button_and_their_post_is_a_403(client):
    await person(client, "ada@support.test", "Ada", "agent")
    resp = await client.get("/desk/settings")
    page = await resp.text()
    assert resp.status == 200 and "Only an admin changes settings" in page
    assert "Open settings" not in page and 'action="/desk/settings/open"' not in page
    assert 'href="/desk/settings"' not in page  # not in the navigation either
    refused = await open_settings(client)
    assert refused.status == 403 and "tinydesk_admin" not in refused.cookies
    resp = await client.get("/admin", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/admin/sign-in")


async def test_opening_needs_the_sessions_csrf_token(client):
    await person(client, "root@support.test", "Ro", "admin")
    resp = await client.post("/desk/settings/open", data={"next": "/admin"}, allow_redirects=False)
    assert resp.status == 403
    assert (await client.get("/admin", allow_redirects=False)).status == 303


async def test_opening_goes_only_inside_the_console(client):
    await person(client, "root@support.test", "Ro", "admin")
    resp = await open_settings(client, "https://evil.example/admin")
    assert resp.status == 303 and resp.headers["Location"] == "/admin"


async def test_the_admin_token_sign_in_still_works(client):
    await token_sign_in(client)
    assert (await client.get("/admin/staff")).status == 200


async def test_the_staff_page_invites_changes_disables_and_enables_again(client):
    await token_sign_in(client)
    await client.post(
        "/api/admin/products", json={"slug": "app", "repo": "o/app"}, headers=ADMIN_HEADERS
    )
    resp = await client.post(
        "/admin/staff",
        data={
            "csrf_token": await admin_csrf(client, "/admin/staff"),
            "email": "bo@support.test",
            "name": "Bo",
            "role": "viewer",
        },
    )
    page = await resp.text()
    assert resp.status == 201 and "shows it only this once" in page
    link = re.search(r'id="staff-link"[^>]*value="([^"]+)"', page).group(1)
    [bo] = (await (await client.get("/api/admin/staff", headers=ADMIN_HEADERS)).json())["staff"]
    account = f"/admin/staff/{bo['id']}"
    # A bad change is refused with the field's message, what was sent kept.
    resp = await client.post(
        account,
        data={"csrf_token": await admin_csrf(client, account), "name": "", "role": "agent"},
    )
    assert resp.status == 400 and 'id="name-error"' in await resp.text()
    resp = await client.post(
        account,
        data={
            "csrf_token": await admin_csrf(client, account),
            "name": "Bo from Support",
            "role": "agent",
            "products": "app",
        },
    )
    assert resp.status == 200 and "Account " + bo["id"] + " saved." in await resp.text()
    [bo] = (await (await client.get("/api/admin/staff", headers=ADMIN_HEADERS)).json())["staff"]
    assert (bo["name"], bo["role"], bo["products"]) == ("Bo from Support", "agent", ["app"])
    await accept(client, link)  # Bo sets a password (and is signed in to the workspace)
    resp = await client.post(
        f"{account}/disable", data={"csrf_token": await admin_csrf(client, account)}
    )
    assert "disabled: its sessions ended" in await resp.text()
    assert (await client.get("/desk", allow_redirects=False)).status == 303
    await sign_in(client, "bo@support.test", PASSWORD, expect=401)
    resp = await client.post(
        f"{account}/enable", data={"csrf_token": await admin_csrf(client, account)}
    )
    assert "enabled again" in await resp.text()
    await sign_in(client, "bo@support.test", PASSWORD)  # the password works again


async def test_the_admin_api_re_enables_a_disabled_account(client):
    resp = await client.post(
        "/api/admin/staff",
        json={"email": "bo@support.test", "name": "Bo", "role": "agent"},
        headers=ADMIN_HEADERS,
    )
    invited = await resp.json()
    await accept(client, invited["link"])
    url = f"/api/admin/staff/{invited['id']}"
    await client.delete(url, headers=ADMIN_HEADERS)
    # Disabled: no change but enabling; a bad value names the field.
    assert (await client.patch(url, json={"role": "viewer"}, headers=ADMIN_HEADERS)).status == 404
    bad = await client.patch(url, json={"enabled": "yes"}, headers=ADMIN_HEADERS)
    assert bad.status == 400 and "enabled" in (await bad.json())["fields"]
    resp = await client.patch(url, json={"enabled": True, "role": "viewer"}, headers=ADMIN_HEADERS)
    body = await resp.json()
    assert resp.status == 200 and body["disabledAt"] is None and body["role"] == "viewer"
    client.session.cookie_jar.clear()
    await sign_in(client, "bo@support.test", PASSWORD)
    resp = await client.patch(url, json={"enabled": False}, headers=ADMIN_HEADERS)
    assert (await resp.json())["disabledAt"] is not None
    assert (await client.get("/desk", allow_redirects=False)).status == 303
