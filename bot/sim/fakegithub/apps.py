"""The fake GitHub's side of the manifest flow, web pages and API, as GitHub behaves:

- ``POST /settings/apps/new`` and ``POST /organizations/{org}/settings/apps/new`` take the
  form field ``manifest`` (JSON) and the query's ``state``; a manifest GitHub would refuse
  (not JSON, no ``url``, an active hook without ``hook_attributes.url``, no ``redirect_url``)
  gets GitHub's error page. Otherwise a page to name the App, with "Create GitHub App".
- That button creates a real App in the fake: a new id, a newly generated RSA key whose
  public half then verifies the App's JWTs, a webhook secret its deliveries are signed with.
  The browser goes to ``redirect_url?code=…&state=…``.
- ``POST /app-manifests/{code}/conversions`` (no authentication) hands the App over, with
  ``pem``, ``webhook_secret``, ``client_id`` and ``client_secret``; a code works once and for
  an hour, anything else is GitHub's 404.
- ``GET /apps/{slug}/installations/new`` offers the accounts' repositories; "Install" creates
  the installation and delivers ``installation.created`` to the App's webhook URL, signed
  with the App's secret, as GitHub's hookshot does.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import jwt
from aiohttp import web

from bot.sim.fakegithub.keys import new_key_pair
from bot.sim.fakegithub.routes import CONVERSION
from bot.sim.fakegithub.server import Server
from bot.sim.fakegithub.state import Reply, iso, node_id

CODE_LIFETIME_SECONDS = 3600.0
# Where the fake's people are signed in: the manifest's App belongs to this user unless an
# organization registered it.
SIGNED_IN_USER = "octocat"


@dataclass
class RegisteredApp:
    """An App created through the manifest flow."""

    id: int
    slug: str
    name: str
    owner: str
    owner_type: str  # "User" or "Organization"
    manifest: dict[str, Any]
    private_pem: str = field(repr=False)
    public_pem: str
    webhook_secret: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    created_at: str

    @property
    def webhook_url(self) -> str | None:
        hook = self.manifest.get("hook_attributes") or {}
        return hook.get("url") if hook.get("active", True) else None


@dataclass
class Delivery:
    """A webhook delivery the fake made (as the App's "Recent deliveries" list)."""

    app_id: int
    event: str
    action: str
    url: str
    status: int
    delivery_id: str




def manifest_problem(manifest: Any) -> str | None:
    """What GitHub says of a manifest it refuses, or None."""
    if not isinstance(manifest, dict):
        return "Invalid GitHub App configuration: the manifest is not a JSON object"
    if not _is_url(manifest.get("url")):
        return "Invalid GitHub App configuration: url is required"
    hook = manifest.get("hook_attributes")
    if hook is not None and not isinstance(hook, dict):
        return "Invalid GitHub App configuration: hook_attributes must be an object"
    if (hook or {}).get("active", True) and not _is_url((hook or {}).get("url")):
        return "Invalid GitHub App configuration: hook_attributes.url is required"
    if not _is_url(manifest.get("redirect_url")):
        return "Invalid GitHub App configuration: redirect_url is required for the manifest flow"
    name = manifest.get("name")
    if name is not None and not isinstance(name, str):
        return "Invalid GitHub App configuration: name must be a string"
    return None


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · GitHub (fake)</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


def _slug(name: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug or "app"


class AppRegistrations(Server):
    """The manifest flow and App installation pages, over the fake's HTTP side."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registered_apps: dict[int, RegisteredApp] = {}
        self.deliveries: list[Delivery] = []
        self._codes: dict[str, tuple[int, float]] = {}  # code -> (app id, expires at)

    # ----------------------------------------------------------------- what tests read

    def registered_app(self, slug: str) -> RegisteredApp:
        for app in self.registered_apps.values():
            if app.slug == slug:
                return app
        raise KeyError(f"no App {slug!r} registered in the fake")

    def expire_codes(self) -> None:
        """Make every manifest code handed out so far older than an hour."""
        self._codes = {code: (app, 0.0) for code, (app, _) in self._codes.items()}

    # ----------------------------------------------------------------- routing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        page = await self._web_page(request)
        if page is not None:
            return page
        return await super()._dispatch(request)

    async def _web_page(self, request: web.Request) -> web.StreamResponse | None:
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        if method == "GET" and parts == ["favicon.ico"]:  # browsers ask every site
            return web.Response(status=404)
        if method == "POST" and parts == ["settings", "apps", "new"]:
            return await self._new_app_page(request, None)
        if (
            method == "POST"
            and len(parts) == 5
            and parts[0] == "organizations"
            and parts[2:] == ["settings", "apps", "new"]
        ):
            return await self._new_app_page(request, parts[1])
        if method == "POST" and parts == ["settings", "apps", "new", "create"]:
            return await self._create_app(request)
        if len(parts) == 4 and parts[0] == "apps" and parts[2:] == ["installations", "new"]:
            if method == "GET":
                return self._install_page(parts[1])
            if method == "POST":
                return await self._install(request, parts[1])
        if method == "GET" and len(parts) == 2 and parts[0] == "apps":
            return self._app_page(parts[1])
        return None

    # ----------------------------------------------------------------- registering

    async def _new_app_page(self, request: web.Request, organization: str | None) -> web.Response:
        form = await request.post()
        raw, manifest, problem = _posted_manifest(form)
        if problem is not None or not isinstance(manifest, dict):
            return _page(
                "Invalid GitHub App configuration", f"<p>{html.escape(problem or '')}</p>", 422
            )
        name = manifest.get("name") or ""
        owner = organization or SIGNED_IN_USER
        hidden = {
            "manifest": raw,
            "state": request.query.get("state", ""),
            "organization": organization or "",
        }
        fields = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(str(v))}">'
            for k, v in hidden.items()
        )
        body = (
            f"<p>Register a new GitHub App owned by <strong>{html.escape(owner)}</strong> "
            "from this manifest.</p>"
            f"<pre id='manifest'>{html.escape(json.dumps(manifest, indent=2))}</pre>"
            '<form method="post" action="/settings/apps/new/create">'
            f"{fields}"
            '<label for="app-name">GitHub App name</label> '
            f'<input id="app-name" name="name" value="{html.escape(name)}" required> '
            '<button type="submit">Create GitHub App</button></form>'
        )
        return _page("Create GitHub App", body)

    async def _create_app(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        _, manifest, problem = _posted_manifest(form)
        if problem is not None or manifest is None:
            return _page("Invalid GitHub App configuration", html.escape(problem or ""), 422)
        name = str(form.get("name") or "").strip()
        if not name:
            return _page("Create GitHub App", "<p>Name can't be blank</p>", 422)
        slug = _slug(name)
        if any(app.slug == slug for app in self.registered_apps.values()):
            return _page("Create GitHub App", "<p>Name is already in use</p>", 422)
        organization = str(form.get("organization") or "") or None
        private_pem, public_pem = new_key_pair()
        app_id = self._next_id()
        self.registered_apps[app_id] = RegisteredApp(
            id=app_id,
            slug=slug,
            name=name,
            owner=organization or SIGNED_IN_USER,
            owner_type="Organization" if organization else "User",
            manifest=manifest,
            private_pem=private_pem,
            public_pem=public_pem,
            webhook_secret=secrets.token_hex(20),
            client_id=f"Iv23li{secrets.token_hex(7)}",
            client_secret=secrets.token_hex(20),
            created_at=iso(),
        )
        code = secrets.token_hex(16)
        self._codes[code] = (app_id, time.time() + CODE_LIFETIME_SECONDS)
        query = urlencode({"code": code, "state": str(form.get("state") or "")})
        raise web.HTTPFound(f"{manifest['redirect_url']}?{query}")

    async def _conversion(self, code: str) -> tuple[int, Any]:
        found = self._codes.pop(code, None)
        if found is None or found[1] <= time.time():
            raise Reply(404, "Not Found")
        app = self.registered_apps[found[0]]
        return 201, {
            **self._render_registered(app),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "webhook_secret": app.webhook_secret,
            "pem": app.private_pem,
        }

    def _render_registered(self, app: RegisteredApp) -> dict[str, Any]:
        manifest = app.manifest
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": node_id("A", app.id),
            "client_id": app.client_id,
            "owner": self._render_user(app.owner, app.owner_type),
            "name": app.name,
            "description": manifest.get("description"),
            "external_url": manifest.get("url"),
            "html_url": f"{self.base_url}/apps/{app.slug}",
            "created_at": app.created_at,
            "updated_at": app.created_at,
            "permissions": {"metadata": "read", **(manifest.get("default_permissions") or {})},
            "events": list(manifest.get("default_events") or []),
            "installations_count": sum(
                1 for i in self.installations.values() if i.get("app_id") == app.id
            ),
        }

    # ----------------------------------------------------------------- installing

    def _app_page(self, slug: str) -> web.Response:
        try:
            app = self.registered_app(slug)
        except KeyError:
            return _page("Not Found", "", 404)
        return _page(
            app.name,
            f"<p>GitHub App {html.escape(app.name)} (id {app.id}), owned by "
            f"{html.escape(app.owner)}.</p>"
            f'<p><a href="/apps/{html.escape(slug)}/installations/new">Install</a></p>',
        )

    def _accounts(self, app: RegisteredApp) -> list[str]:
        """The accounts the signed-in person may install on: the App's owner first (an
        organization's App installs only there, as a private App does)."""
        if app.owner_type == "Organization":
            return [app.owner]
        owners = {r.owner for r in self._repos.values()}
        return [app.owner, *sorted(owners - {app.owner})]

    def _install_page(self, slug: str) -> web.Response:
        try:
            app = self.registered_app(slug)
        except KeyError:
            return _page("Not Found", "", 404)
        options = "".join(
            f'<option value="{html.escape(a)}">{html.escape(a)}</option>'
            for a in self._accounts(app)
        )
        return _page(
            f"Install {app.name}",
            f'<form method="post" action="/apps/{html.escape(slug)}/installations/new">'
            f'<label for="account">Account</label> <select id="account" name="account">'
            f"{options}</select> <p>All repositories of the account.</p>"
            '<button type="submit">Install</button></form>',
        )

    async def _install(self, request: web.Request, slug: str) -> web.Response:
        try:
            app = self.registered_app(slug)
        except KeyError:
            return _page("Not Found", "", 404)
        form = await request.post()
        account = str(form.get("account") or app.owner)
        if account not in self._accounts(app):
            return _page("Install", "<p>You cannot install on that account.</p>", 422)
        repos = sorted(r.full_name for r in self._repos.values() if r.owner == account)
        installation_id = self._next_id()
        self.add_installation(installation_id, account, repos)
        self.installations[installation_id]["app_id"] = app.id
        status = await self._deliver_installation(app, installation_id, account, repos)
        return _page(
            f"{app.name} installed",
            f"<p id='installed'>Installed on {html.escape(account)} "
            f"({len(repos)} repositories); installation {installation_id}. "
            f"Webhook delivery answered {status}.</p>",
        )

    async def _deliver_installation(
        self, app: RegisteredApp, installation_id: int, account: str, repos: list[str]
    ) -> int:
        url = app.webhook_url
        if url is None:
            return 0
        account_type = "User" if account == SIGNED_IN_USER else "Organization"
        settings_url = f"{self.base_url}/organizations/{account}/settings/installations"
        permissions = app.manifest.get("default_permissions") or {}
        payload = {
            "action": "created",
            "installation": {
                "id": installation_id,
                "account": self._render_user(account, account_type),
                "app_id": app.id,
                "app_slug": app.slug,
                "target_type": account_type,
                "repository_selection": "all",
                "html_url": f"{settings_url}/{installation_id}",
                "permissions": {"metadata": "read", **permissions},
                "events": list(app.manifest.get("default_events") or []),
                "created_at": iso(),
                "updated_at": iso(),
            },
            "repositories": [
                {
                    "id": self._repos[name.lower()].id,
                    "node_id": node_id("R", self._repos[name.lower()].id),
                    "name": name.split("/")[1],
                    "full_name": name,
                    "private": self._repos[name.lower()].private,
                }
                for name in repos
            ],
            "requester": None,
            "sender": self._render_user(SIGNED_IN_USER),
        }
        # Here, not at the top: hookshot signs with ``tinydesk receive``'s headers, and the CLI
        # package imports the demo, which imports this fake.
        from bot.sim.hookshot import deliver

        try:
            async with aiohttp.ClientSession() as http:
                status, _, delivery_id = await deliver(
                    http, url, "installation", payload, app.webhook_secret
                )
        except aiohttp.ClientError:
            status, delivery_id = 0, ""
        self.deliveries.append(
            Delivery(app.id, "installation", "created", url, status, delivery_id)
        )
        return status

    # ----------------------------------------------------------------- the API side

    async def _handle(
        self,
        operation: str,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        auth: str,
        headers: dict[str, str],
        request: web.Request,
    ) -> tuple[int, Any]:
        if operation == CONVERSION:
            return await self._conversion(params["code"])
        if operation == "GET /app":
            registered = self._registered_caller(request)
            if registered is not None:
                return 200, self._complete(operation, 200, self._render_registered(registered))
        return await super()._handle(operation, params, query, body, auth, headers, request)

    def _validate_request(
        self, operation: str, query: dict[str, str], body: Any, raw_body: bytes
    ) -> None:
        if operation != CONVERSION:  # not in the shared subset of GitHub's description
            super()._validate_request(operation, query, body, raw_body)

    def _check_response(self, operation: str, status: int, payload: Any) -> None:
        if operation != CONVERSION:
            super()._check_response(operation, status, payload)

    def _registered_caller(self, request: web.Request) -> RegisteredApp | None:
        """The registered App whose JWT authenticated ``request`` (checked before)."""
        credential = request.headers.get("Authorization", "").partition(" ")[2].strip()
        return self._registered_issuer(credential)

    def _registered_issuer(self, credential: str) -> RegisteredApp | None:
        try:
            issuer = jwt.decode(credential, options={"verify_signature": False}).get("iss")
            return self.registered_apps.get(int(str(issuer)))
        except (jwt.PyJWTError, TypeError, ValueError):
            return None

    def _jwt_identity(self, credential: str) -> tuple[str, int]:
        """The key and id a JWT must match: a registered App's when it names one."""
        app = self._registered_issuer(credential)
        if app is not None:
            return app.public_pem, app.id
        return super()._jwt_identity(credential)


def _posted_manifest(form: Mapping[str, Any]) -> tuple[Any, Any, str | None]:
    """The ``manifest`` field of a posted form: (as sent, parsed or None, what GitHub would
    refuse in it or None)."""
    raw = form.get("manifest")
    try:
        manifest = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        manifest = None
    return raw, manifest, manifest_problem(manifest)
