"""Staff sign-in with GitHub (issue 19, item 1) end to end against the fake GitHub's user OAuth
flow (``/login/oauth/authorize``, ``/login/oauth/access_token``, ``GET /user``): an account an
admin named by GitHub login is linked to the GitHub user id at the first sign-in and signed
in; a stranger, a forged state or a spent code gets nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.sim.stack import start_fake
from storage.models import StaffAccount, StaffSession
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN

CLIENT_ID, CLIENT_SECRET = "Iv1.tinydesktest", "oauth-client-secret-for-tests"


@pytest.fixture
async def github():
    fake = await start_fake()
    fake.add_oauth_client(CLIENT_ID, CLIENT_SECRET)
    yield fake
    await fake.close()


@pytest.fixture
async def client(make_client, github):
    settings = Settings(
        admin_token=ADMIN_TOKEN,
        run_workers=False,
        github_api_url=github.base_url,
        github_client_id=CLIENT_ID,
        github_client_secret=CLIENT_SECRET,
    )
    return await make_client(settings)


async def through_github(client) -> aiohttp.ClientResponse:
    """Click "Sign in with GitHub": to the fake's authorize page and back to the callback."""
    start = await client.get("/desk/sign-in/github", allow_redirects=False)
    assert start.status == 303, await start.text()
    async with aiohttp.ClientSession() as browser:
        async with browser.get(start.headers["Location"], allow_redirects=False) as authorize:
            assert authorize.status == 302, await authorize.text()
            back = urlsplit(authorize.headers["Location"])
    assert back.path == "/desk/sign-in/github/callback"
    return await client.get(f"{back.path}?{back.query}", allow_redirects=False)


async def invite(client, **fields) -> dict:
    body = {"email": "ada@support.test", "name": "Ada", "github": "ada-gh", **fields}
    resp = await client.post("/api/admin/staff", json=body, headers=ADMIN_HEADERS)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_the_named_github_user_signs_in_and_is_linked(client, github, db):
    await invite(client)
    github.sign_in_as("ada-gh", 4242, "Ada L.")
    back = await through_github(client)
    assert back.status == 200 and back.headers["Refresh"] == "0; url=/desk"
    inbox = await client.get("/desk")
    assert "Signed in as Ada (agent)" in await inbox.text()
    async with db.session() as session:
        account = await session.scalar(select(StaffAccount))
    assert account.github_id == 4242 and account.github_login == "ada-gh"
    # Renamed on GitHub: the id still finds the account.
    client.session.cookie_jar.clear()
    github.sign_in_as("ada-renamed", 4242)
    assert (await through_github(client)).status == 200
    async with db.session() as session:
        assert (await session.scalar(select(StaffAccount))).github_login == "ada-renamed"


async def test_a_github_user_without_an_account_gets_nothing(client, github, db):
    await invite(client)
    github.sign_in_as("mallory", 666)
    back = await through_github(client)
    assert back.status == 403 and "@mallory" in await back.text()
    # Someone who takes the named login later (another id) is not the linked person either.
    github.sign_in_as("ada-gh", 4242)
    assert (await through_github(client)).status == 200
    client.session.cookie_jar.clear()
    github.sign_in_as("ada-gh", 9999)
    assert (await through_github(client)).status == 403
    async with db.session() as session:
        assert len((await session.scalars(select(StaffSession))).all()) == 1


async def test_a_forged_state_or_a_spent_code_signs_nobody_in(client, github, db):
    await invite(client)
    github.sign_in_as("ada-gh", 4242)
    start = await client.get("/desk/sign-in/github", allow_redirects=False)
    async with aiohttp.ClientSession() as browser:
        async with browser.get(start.headers["Location"], allow_redirects=False) as authorize:
            back = urlsplit(authorize.headers["Location"])
    code = parse_qs(back.query)["code"][0]
    forged = await client.get(f"{back.path}?code={code}&state=forged", allow_redirects=False)
    assert forged.status == 403
    # The code was not spent by the forged attempt (it never reached GitHub): use it once.
    assert (await client.get(f"{back.path}?{back.query}", allow_redirects=False)).status == 200
    client.session.cookie_jar.clear()
    again = await client.get("/desk/sign-in/github", allow_redirects=False)
    state = parse_qs(urlsplit(again.headers["Location"]).query)["state"][0]
    spent = await client.get(f"{back.path}?code={code}&state={state}", allow_redirects=False)
    assert spent.status == 502 and "code was used or expired" in await spent.text()


async def test_without_the_apps_oauth_client_the_button_says_so(make_client):
    client = await make_client(Settings(admin_token=ADMIN_TOKEN, run_workers=False))
    resp = await client.get("/desk/sign-in/github", allow_redirects=False)
    assert resp.status == 503 and "not set up" in await resp.text()
