"""Registering the GitHub App through GitHub's manifest flow (issue 14, item 1), over HTTP
against the fake GitHub: ``/admin/setup`` and its callback, the ``state`` checks, the
exchange of the code, the credentials encrypted at rest, the environment overriding them
field by field, the start-up error for a wrong server secret, ``tinydesk setup`` as a real
process, and ``tinydesk serve`` taking the App on without a restart."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt as pyjwt
import pytest
import yaml
from sqlalchemy import text

from bot.cli.receive import delivery_headers
from bot.config import ConfigError, Settings
from bot.github import manifest as manifest_module
from bot.github.client import app_jwt
from bot.github.manifest import build_manifest, server_urls, web_url_for
from bot.github.stored_app import UNREADABLE, cipher, merge, settings_with_stored_app
from bot.sim.fakegithub import FakeGitHub
from bot.sim.fakegithub.routes import CONVERSION
from bot.sim.hookshot import new_delivery_id
from bot.sim.stack import ServerProcess
from bot.web.admin import setup as setup_pages
from storage.repos.github_app import GitHubAppRepo
from tests.conftest import ADMIN_TOKEN
from tests.fakes import generate_app_key
from tests.web_helpers import csrf_token
from webhooks import SUBSCRIBED_EVENTS

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "manifest-test-secret-key-0123456789abcdef"
FORM_ACTION = re.compile(r'<form id="manifest-form" method="post" action="([^"]+)"')
MANIFEST_FIELD = re.compile(r'name="manifest" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


# --------------------------------------------------------------------------- helpers


def app_settings(fake: FakeGitHub, **values) -> Settings:
    """A server with an admin token and no App, whose GitHub is the fake."""
    return Settings(
        admin_token=ADMIN_TOKEN, github_api_url=fake.base_url, run_workers=False, **values
    )


async def sign_in(client) -> str:
    """Sign in (once per client); the session's CSRF token."""
    already = await client.get("/admin/setup", allow_redirects=False)
    if already.status == 200:
        return csrf_token(await already.text())
    form = await client.get("/admin/sign-in")
    resp = await client.post(
        "/admin/sign-in",
        data={"csrf_token": csrf_token(await form.text()), "token": ADMIN_TOKEN},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    page = await client.get("/admin/setup")
    assert page.status == 200
    return csrf_token(await page.text())


def manifest_form(page: str) -> tuple[str, str]:
    """The register page's form: where it posts, and the manifest (JSON text) it carries."""
    action = FORM_ACTION.search(page)
    field = MANIFEST_FIELD.search(page)
    assert action and field, page
    return html.unescape(action.group(1)), html.unescape(field.group(1))


async def create_on_fake(action: str, manifest: str, *, name: str | None = None) -> str:
    """What a person does on GitHub: the manifest's page, then "Create GitHub App". Returns
    where GitHub sends the browser back (``redirect_url?code=…&state=…``)."""
    async with aiohttp.ClientSession() as http:
        async with http.post(action, data={"manifest": manifest}) as resp:
            page = await resp.text()
            assert resp.status == 200, page
            assert "Create GitHub App" in page
        fields = {k: html.unescape(v) for k, v in HIDDEN.findall(page)}
        if name is not None:
            fields["name"] = name
        else:
            fields["name"] = re.search(r'id="app-name" name="name" value="([^"]*)"', page)[1]
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(action))
        async with http.post(
            f"{origin}/settings/apps/new/create", data=fields, allow_redirects=False
        ) as resp:
            assert resp.status == 302, await resp.text()
            return resp.headers["Location"]


async def start_registration(client, csrf: str, **form) -> str:
    resp = await client.post(
        "/admin/setup", data={"csrf_token": csrf, "account": "personal", **form}
    )
    page = await resp.text()
    assert resp.status == 200, page
    return page


async def follow_back(url: str) -> tuple[int, str]:
    """GitHub's redirect, followed by a browser that sends no TinyDesk cookie (SameSite=
    Strict cookies stay home on a cross-site redirect)."""
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


async def register(client, fake: FakeGitHub, **form) -> tuple[str, str]:
    """The whole flow; returns the callback URL used and the page it answered."""
    csrf = await sign_in(client)
    action, manifest = manifest_form(await start_registration(client, csrf, **form))
    back = await create_on_fake(action, manifest, name=form.get("name"))
    status, page = await follow_back(back)
    assert status == 200, page
    return back, page


async def raw_row(db) -> dict:
    async with db.engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM github_app"))).mappings().one()
    return dict(row)


# --------------------------------------------------------------------------- the form


async def test_setup_page_offers_registration_for_an_account_or_organization(
    make_client, fake_github
):
    """Without an App, /admin/setup (signed in) offers the registration: personal account or
    organization, and a GitHub Enterprise Server address; it needs a session and a CSRF token."""
    client = await make_client(app_settings(fake_github))
    resp = await client.get("/admin/setup", allow_redirects=False)
    assert resp.status == 303 and "/admin/sign-in" in resp.headers["Location"]
    csrf = await sign_in(client)
    page = await (await client.get("/admin/setup")).text()
    for expected in (
        'value="personal"',
        'value="organization"',
        'name="githubUrl"',
        "Register on GitHub",
        "/webhooks/github",
    ):
        assert expected in page
    assert (await client.post("/admin/setup", data={"account": "personal"})).status == 403
    bad = await client.post(
        "/admin/setup",
        data={"csrf_token": csrf, "account": "organization", "organization": "-bad-"},
    )
    assert bad.status == 400
    assert "A GitHub login has letters" in await bad.text()
    bad = await client.post(
        "/admin/setup", data={"csrf_token": csrf, "githubUrl": "ghe.example.com"}
    )
    assert bad.status == 400 and "https://ghe.example.com" in await bad.text()


async def test_register_page_posts_the_manifest_with_this_servers_urls_and_a_state(
    make_client, fake_github, db
):
    """The page POSTs app.yml's manifest with this server's webhook and redirect URLs to
    GitHub's new-App page with a random state, kept (hashed) for ten minutes; its CSP lets
    that one form leave the site, to GitHub only."""
    client = await make_client(app_settings(fake_github, public_url="https://desk.example.test"))
    csrf = await sign_in(client)
    resp = await client.post(
        "/admin/setup", data={"csrf_token": csrf, "account": "personal", "name": "Desk X"}
    )
    page = await resp.text()
    action, manifest_json = manifest_form(page)
    parts = urlsplit(action)
    assert f"{parts.scheme}://{parts.netloc}" == fake_github.base_url
    assert parts.path == "/settings/apps/new"
    [state] = parse_qs(parts.query)["state"]
    assert len(state) >= 40
    manifest = yaml.safe_load(manifest_json)
    assert manifest["hook_attributes"] == {
        "url": "https://desk.example.test/webhooks/github",
        "active": True,
    }
    assert manifest["redirect_url"] == "https://desk.example.test/admin/setup/callback"
    assert manifest["url"] == "https://desk.example.test" and manifest["name"] == "Desk X"
    policy = resp.headers["Content-Security-Policy"]
    assert f"form-action 'self' {fake_github.base_url}" in policy
    assert "script-src 'self'" in policy and '<script src="/static/setup.js' in page
    async with db.session() as session:
        kept = await GitHubAppRepo(session).take_state(
            setup_pages.state_hash(state), now=time.time()
        )
    assert kept is not None and kept.api_url == fake_github.base_url
    assert 590 < kept.expires_at - time.time() <= 600
    assert state not in str(kept.id)  # only its hash is stored


async def test_an_organization_and_an_enterprise_server_go_to_their_own_pages(
    make_client, fake_github, db
):
    """An organization's App is registered on the organization's page; a GitHub Enterprise
    Server address typed on the form sets both the web page and the API (``/api/v3``) of
    that registration."""
    client = await make_client(app_settings(fake_github))
    csrf = await sign_in(client)
    page = await start_registration(client, csrf, account="organization", organization="octo-org")
    action, _ = manifest_form(page)
    assert urlsplit(action).path == "/organizations/octo-org/settings/apps/new"
    resp = await client.post(
        "/admin/setup",
        data={"csrf_token": csrf, "account": "personal", "githubUrl": "https://ghe.example.com/"},
    )
    action, _ = manifest_form(await resp.text())
    assert action.startswith("https://ghe.example.com/settings/apps/new?state=")
    assert "form-action 'self' https://ghe.example.com" in resp.headers["Content-Security-Policy"]
    [state] = parse_qs(urlsplit(action).query)["state"]
    async with db.session() as session:
        kept = await GitHubAppRepo(session).take_state(
            setup_pages.state_hash(state), now=time.time()
        )
    assert (kept.web_url, kept.api_url) == (
        "https://ghe.example.com",
        "https://ghe.example.com/api/v3",
    )


# --------------------------------------------------------------------------- the exchange


async def test_registration_stores_the_app_encrypted_and_links_to_its_installation(
    make_client, fake_github, db, caplog
):
    """The callback exchanges the code (no auth), stores the App with its key, webhook
    secret and client secret encrypted (the raw columns hold no secret), says what happened
    and links to the App and its installation page; no secret reaches a log line."""
    caplog.set_level(logging.DEBUG)
    client = await make_client(app_settings(fake_github))
    _, page = await register(
        client, fake_github, account="organization", organization="octo-org", name="Desk Org"
    )
    app = fake_github.registered_app("desk-org")
    assert app.owner == "octo-org"
    [call] = fake_github.calls_to(CONVERSION)
    assert call.status == 201 and call.auth == "none"
    assert "GitHub App registered" in page and "Desk Org" in page and str(app.id) in page
    assert f'href="{fake_github.base_url}/apps/desk-org/installations/new"' in page
    row = await raw_row(db)
    assert row["app_id"] == app.id and row["slug"] == "desk-org"
    assert row["api_url"] == fake_github.base_url and row["owner_login"] == "octo-org"
    for column, secret in (
        ("private_key", app.private_pem),
        ("webhook_secret", app.webhook_secret),
        ("client_secret", app.client_secret),
    ):
        assert "PRIVATE KEY" not in row[column] and secret not in row[column]
        assert cipher(ADMIN_TOKEN).decrypt(row[column].encode()).decode() == secret
    for secret in (app.private_pem.splitlines()[1], app.webhook_secret, app.client_secret):
        assert secret not in page
        assert secret not in caplog.text
    merged = await settings_with_stored_app(Settings(admin_token=ADMIN_TOKEN), db)
    assert merged.github_app_id == str(app.id)
    assert merged.github_private_key == app.private_pem
    assert merged.github_webhook_secret == app.webhook_secret
    assert merged.github_api_url == fake_github.base_url
    # With the App configured, the page shows its status, never a secret.
    configured = await make_client(merged)
    await sign_in(configured)
    status = await (await configured.get("/admin/setup")).text()
    assert "Configured" in status and str(app.id) in status and "desk-org" in status
    assert app.webhook_secret not in status and "PRIVATE KEY" not in status


async def test_the_state_is_checked_single_use_and_expires(
    make_client, fake_github, db, monkeypatch
):
    """A callback is accepted once, for a state this server sent in the last ten minutes:
    a reused, unknown, missing or expired state is a clear 400 page, and the code is then
    never exchanged."""
    client = await make_client(app_settings(fake_github))
    back, _ = await register(client, fake_github)
    assert fake_github.count(CONVERSION) == 1
    for url in (
        back,  # used already
        re.sub(r"state=[^&]+", "state=made-up", back),
        re.sub(r"&?state=[^&]+", "", back),
    ):
        status, page = await follow_back(url)
        assert status == 400, url
        assert "Registration not recognised" in page and "Start the registration again" in page
    monkeypatch.setattr(setup_pages, "STATE_LIFETIME_SECONDS", -1.0)
    csrf = await sign_in(client)
    action, manifest = manifest_form(await start_registration(client, csrf))
    back = await create_on_fake(action, manifest, name="Late App")
    status, page = await follow_back(back)
    assert status == 400 and "last ten minutes" in page
    assert fake_github.count(CONVERSION) == 1
    assert (await raw_row(db))["slug"] == "tinydesk"  # the first App stays


@pytest.mark.parametrize("failure", ["unknown code", "expired code", "github down", "5xx"])
async def test_a_failed_exchange_is_a_clear_page_and_stores_nothing(
    make_client, fake_github, db, failure
):
    """A code GitHub does not know (404: used, made up or over an hour old) or GitHub not
    answering is a page that says so, never a 500, and nothing is stored."""
    client = await make_client(app_settings(fake_github))
    csrf = await sign_in(client)
    action, manifest = manifest_form(await start_registration(client, csrf))
    back = await create_on_fake(action, manifest)
    if failure == "unknown code":
        back = re.sub(r"code=[^&]+", "code=0123abcd", back)
    elif failure == "expired code":
        fake_github.expire_codes()
    elif failure == "5xx":
        fake_github.fail_next(CONVERSION, 502)
    else:
        await fake_github.close()
    status, page = await follow_back(back)
    if failure in ("unknown code", "expired code"):
        assert status == 400 and "GitHub does not know this code" in page
    else:
        assert status == 502 and ("could not be reached" in page or "answered 502" in page)
    async with db.session() as session:
        assert await GitHubAppRepo(session).get() is None


# --------------------------------------------------------------------------- settings


async def stored(db, fake_github, make_client) -> object:
    client = await make_client(app_settings(fake_github))
    await register(client, fake_github)
    return fake_github.registered_app("tinydesk")


async def test_environment_variables_override_the_stored_app_field_by_field(
    make_client, fake_github, db
):
    """GITHUB_APP_ID, the private key, GITHUB_WEBHOOK_SECRET and GITHUB_API_URL each win over
    what was stored, on their own; what the environment leaves unset comes from the row."""
    app = await stored(db, fake_github, make_client)
    base = {"admin_token": ADMIN_TOKEN}
    cases = {
        "github_app_id": "777",
        "github_private_key": "-----BEGIN RSA PRIVATE KEY-----\nenv\n-----END RSA PRIVATE KEY-----",
        "github_webhook_secret": "from-the-environment",
        "github_api_url": "https://ghe.example.com/api/v3",
    }
    from_row = {
        "github_app_id": str(app.id),
        "github_private_key": app.private_pem,
        "github_webhook_secret": app.webhook_secret,
        "github_api_url": fake_github.base_url,
    }
    for field, value in cases.items():
        merged = await settings_with_stored_app(Settings(**base, **{field: value}), db)
        for other, stored_value in from_row.items():
            assert getattr(merged, other) == (value if other == field else stored_value)


async def test_a_changed_server_secret_is_one_clear_line_at_start(
    make_client, fake_github, db, database_url, tmp_path
):
    """Credentials stored under one secret cannot be read under another: the merge says so
    in one line, and ``tinydesk serve`` exits 2 with that line (no traceback); with the
    secrets given by the environment nothing needs decrypting and it starts."""
    app = await stored(db, fake_github, make_client)
    async with db.session() as session:
        row = await GitHubAppRepo(session).get()
    with pytest.raises(ConfigError) as caught:
        merge(Settings(admin_token="another-admin-token-0123456789-abcdef"), row)
    assert caught.value.problems == [UNREADABLE]
    assert merge(
        Settings(
            admin_token="another-admin-token-0123456789-abcdef",
            github_private_key=app.private_pem,
            github_webhook_secret="x" * 20,
        ),
        row,
    ).github_app_id == str(app.id)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TINYDESK_SECRET_KEY": "a-different-secret-key-0123456789abcdef",
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("tinydesk:")]
    assert lines == [f"tinydesk: {UNREADABLE}"], done.stderr
    assert "Traceback" not in done.stderr


def test_app_yml_and_the_manifest_built_from_it_agree():
    """The manifest GitHub gets carries app.yml's permissions and events (which the webhook
    router handles), and app.yml no longer claims GitHub reads it by itself."""
    source = yaml.safe_load((ROOT / "app.yml").read_text())
    built = build_manifest("https://desk.example.test")
    assert built["default_permissions"] == source["default_permissions"]
    assert built["default_events"] == source["default_events"] == list(SUBSCRIBED_EVENTS)
    assert built["name"] == source["name"] and built["public"] is False
    assert "GitHub fills in" not in (ROOT / "app.yml").read_text()
    assert manifest_module.APP_YML == ROOT / "app.yml"


def test_githubs_web_address_follows_its_api_address():
    assert web_url_for("https://api.github.com") == "https://github.com"
    assert web_url_for("https://ghe.example.com/api/v3") == "https://ghe.example.com"
    assert web_url_for("http://127.0.0.1:4567") == "http://127.0.0.1:4567"
    assert server_urls("https://ghe.example.com/") == (
        "https://ghe.example.com",
        "https://ghe.example.com/api/v3",
    )


# --------------------------------------------------------------------------- real processes


async def complete_in_browser(url: str) -> tuple[int, str]:
    """Open the printed URL, follow the page to the fake, create the App, come back."""
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        page = await resp.text()
        assert resp.status == 200, page
    action, manifest = manifest_form(page)
    back = await create_on_fake(action, manifest)
    return await follow_back(back)


async def read_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line, "tinydesk setup ended before printing its URL"
        if line.strip().startswith("http://"):
            return line.strip()


def setup_env(fake: FakeGitHub, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TINYDESK_"))}
    return {
        **env,
        "DATABASE_URL": database_url,
        "TINYDESK_SECRET_KEY": SECRET_KEY,
        "GITHUB_API_URL": fake.base_url,
    }


async def test_tinydesk_setup_registers_the_app_from_a_terminal(
    fake_github, db, database_url, tmp_path
):
    """``tinydesk setup`` (a real process) prints a local URL, whose page takes the manifest
    to GitHub; once GitHub sends the browser back it stores the App under
    TINYDESK_SECRET_KEY, prints the App id and the installation URL, and exits 0."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "setup",
        "--public-url",
        "https://desk.example.test",
        "--org",
        "octo-org",
        "--timeout",
        "60",
        env=setup_env(fake_github, database_url),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = await read_url(process)
        assert url.startswith("http://127.0.0.1:")
        status, page = await complete_in_browser(url)
        assert status == 200 and "GitHub App registered" in page
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    app = fake_github.registered_app("tinydesk")
    assert app.owner == "octo-org"
    assert app.manifest["hook_attributes"]["url"] == "https://desk.example.test/webhooks/github"
    assert app.manifest["redirect_url"].startswith(url.split("/setup/")[0])
    text_out = out.decode()
    assert f"App id {app.id}" in text_out
    assert f"{fake_github.base_url}/apps/tinydesk/installations/new" in text_out
    assert app.webhook_secret not in text_out + err.decode()
    merged = await settings_with_stored_app(Settings(secret_key=SECRET_KEY), db)
    assert merged.github_app_id == str(app.id) and merged.github_private_key == app.private_pem


async def test_tinydesk_setup_stops_cleanly_on_ctrl_c_and_refuses_what_cannot_work(
    fake_github, database_url, tmp_path
):
    """Ctrl-C while waiting: one line, exit 130, nothing stored. Without a server secret or
    a public URL it says what to set and exits 2 before listening."""
    env = setup_env(fake_github, database_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "setup",
        "--public-url",
        "https://desk.example.test",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await read_url(process)
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 130
    assert err.decode().strip() == "tinydesk: setup stopped; nothing was stored"
    bare = {k: v for k, v in env.items() if k != "TINYDESK_SECRET_KEY"}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "setup"],
        env=bare,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "TINYDESK_SECRET_KEY" in done.stderr and "--public-url" in done.stderr
    assert "Traceback" not in done.stderr


async def eventually(check, server: ServerProcess, seconds: float = 20):
    """``await check()`` until it is truthy (a connection refused while the application is
    rebuilt counts as not yet)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = await check()
            if found:
                return found
        except aiohttp.ClientError:
            pass
        assert time.monotonic() < deadline, server.log()[-3000:]
        await asyncio.sleep(0.1)


@pytest.fixture
def database_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "tinydesk.db"
    shutil.copy(sqlite_template, path)
    return path


async def test_serve_uses_the_app_registered_at_admin_setup_without_a_restart(
    fake_github, tmp_path, database_file
):
    """A real ``tinydesk serve`` with no App: after the registration at /admin/setup the
    same process (same port) reports GitHub configured, verifies webhooks with the new App's
    secret, hears of the installation made on GitHub's page, and opens a ticket's issue as
    the new App (its own key, its own installation token)."""
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{database_file}",
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "GITHUB_API_URL": fake_github.base_url,
        "TINYDESK_WORKERS": "true",
    }
    for name in (
        "GITHUB_APP_ID",
        "GITHUB_PRIVATE_KEY",
        "GITHUB_WEBHOOK_SECRET",
        "TINYDESK_PUBLIC_URL",
    ):
        env[name] = ""
    fake_github.add_repo("octo-org/my-saas-app")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with ServerProcess(env, tmp_path / "serve.log") as server:
        server.wait_ready()
        pid = server.process.pid
        async with aiohttp.ClientSession(base_url=server.url) as http:
            async with http.get("/healthz") as resp:
                assert (await resp.json())["github"] == "not configured"
            async with http.post(
                "/api/admin/products",
                json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app"},
                headers=admin,
            ) as resp:
                assert resp.status == 201
            jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
            async with aiohttp.ClientSession(base_url=server.url, cookie_jar=jar) as browser:
                form = await (await browser.get("/admin/sign-in")).text()
                await browser.post(
                    "/admin/sign-in", data={"csrf_token": csrf_token(form), "token": ADMIN_TOKEN}
                )
                csrf = csrf_token(await (await browser.get("/admin/setup")).text())
                resp = await browser.post(
                    "/admin/setup", data={"csrf_token": csrf, "account": "personal"}
                )
                action, manifest = manifest_form(await resp.text())
            status, page = await follow_back(await create_on_fake(action, manifest))
            assert status == 200, page

            async def configured():
                async with http.get("/healthz") as resp:
                    return (await resp.json())["github"] == "configured"

            await eventually(configured, server)
            app = fake_github.registered_app("tinydesk")
            body = b'{"zen": "Design for failure.", "hook_id": 1}'
            for key, expected in ((app.webhook_secret, 202), ("not-the-secret", 401)):
                headers = delivery_headers("ping", body, key, delivery_id=new_delivery_id())
                async with http.post("/webhooks/github", data=body, headers=headers) as resp:
                    assert resp.status == expected, await resp.text()

            async with aiohttp.ClientSession() as person:
                async with person.post(
                    f"{fake_github.base_url}/apps/tinydesk/installations/new",
                    data={"account": "octo-org"},
                ) as resp:
                    assert resp.status == 200 and "installed" in await resp.text()
            [delivery] = fake_github.deliveries
            assert (delivery.event, delivery.status) == ("installation", 202)
            assert delivery.url == f"{server.url}/webhooks/github"

            async def installed():
                async with http.get("/api/admin/products", headers=admin) as resp:
                    return (await resp.json())["products"][0]["appInstalled"]

            await eventually(installed, server)
            async with http.post(
                "/api/tickets",
                json={
                    "productSlug": "my-saas-app",
                    "submitterEmail": "a@example.com",
                    "subject": "Checkout fails",
                    "body": "Press Pay: nothing happens.",
                },
            ) as resp:
                assert resp.status == 201

            async def issue_opened():
                return fake_github.issues("octo-org", "my-saas-app")

            [issue] = await eventually(issue_opened, server)
            assert issue["title"] == "Checkout fails"
        tokens = fake_github.calls_to("POST /app/installations/{installation_id}/access_tokens")
        assert tokens and all(call.status == 201 for call in tokens)
        assert server.process.pid == pid and server.process.poll() is None
        log = server.log()
        assert "restarting the application" in log
        assert app.webhook_secret not in log and app.private_pem.splitlines()[1] not in log


# --------------------------------------------------------------------------- the fake


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ("not json", "not a JSON object"),
        (
            '{"name": "X", "redirect_url": "https://d.example/cb", "hook_attributes": '
            '{"url": "https://d.example/h"}}',
            "url is required",
        ),
        (
            '{"url": "https://d.example", "redirect_url": "https://d.example/cb", '
            '"hook_attributes": {"active": true}}',
            "hook_attributes.url is required",
        ),
        (
            '{"url": "https://d.example", "hook_attributes": {"url": "https://d.example/h"}}',
            "redirect_url is required",
        ),
    ],
)
async def test_the_fake_refuses_manifests_github_refuses(fake_github, manifest, problem):
    """The fake's new-App page checks a manifest as GitHub does: JSON, a homepage ``url``,
    a webhook URL when the hook is active, a ``redirect_url`` for the flow."""
    async with aiohttp.ClientSession() as http:
        for path in ("/settings/apps/new", "/organizations/octo-org/settings/apps/new"):
            async with http.post(
                f"{fake_github.base_url}{path}?state=s", data={"manifest": manifest}
            ) as resp:
                assert resp.status == 422
                assert problem in await resp.text()
    assert fake_github.registered_apps == {}


async def test_a_registered_app_is_a_real_app_in_the_fake(fake_github):
    """ "Create GitHub App" makes a real App: its code converts once (then 404, as GitHub),
    its own key signs the JWTs the fake accepts for it, GET /app answers it, and a JWT
    naming it but signed with another key is refused."""
    manifest = build_manifest("https://desk.example.test")
    back = await create_on_fake(
        f"{fake_github.base_url}/settings/apps/new?state=abc", json.dumps(manifest)
    )
    assert back.startswith("https://desk.example.test/admin/setup/callback?code=")
    assert back.endswith("&state=abc")
    code = parse_qs(urlsplit(back).query)["code"][0]
    async with aiohttp.ClientSession() as http:
        url = f"{fake_github.base_url}/app-manifests/{code}/conversions"
        async with http.post(url) as resp:
            assert resp.status == 201
            answer = await resp.json()
        async with http.post(url) as resp:
            assert resp.status == 404
        for name in (
            "id",
            "slug",
            "node_id",
            "owner",
            "name",
            "html_url",
            "client_id",
            "client_secret",
            "webhook_secret",
            "pem",
            "permissions",
            "events",
        ):
            assert answer[name], name
        assert answer["permissions"]["issues"] == "write"
        assert answer["events"] == manifest["default_events"]
        own = app_jwt(str(answer["id"]), answer["pem"])
        async with http.get(
            f"{fake_github.base_url}/app", headers={"Authorization": f"Bearer {own}"}
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["id"] == answer["id"]
        forged = pyjwt.encode(
            {"iat": int(time.time()) - 60, "exp": int(time.time()) + 500, "iss": str(answer["id"])},
            generate_app_key()[0],
            algorithm="RS256",
        )
        async with http.get(
            f"{fake_github.base_url}/app", headers={"Authorization": f"Bearer {forged}"}
        ) as resp:
            assert resp.status == 401
    fake_github.violations.clear()  # the forged JWT was refused on purpose
