"""The fake's user OAuth flow, as GitHub runs it for a GitHub App's "sign in with GitHub":
``GET /login/oauth/authorize`` (the person is signed in to the fake as ``signed_in``, and
GitHub sends them straight back when they authorized the App before, as here: a redirect to
``redirect_uri`` with ``code`` and ``state``), ``POST /login/oauth/access_token`` (the code,
the client id and secret: a user token, or GitHub's 200 with ``error`` for a bad code), and
``GET /user`` with that token.

A code works once, for ten minutes, for the client and redirect URI it was made for. Clients
are the Apps registered through the manifest flow, plus those a test adds
(``add_oauth_client``).
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.sim.fakegithub.apps import AppRegistrations

CODE_SECONDS = 600.0


class UserOAuth(AppRegistrations):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.oauth_clients: dict[str, str] = {}  # client id -> secret (beside the Apps')
        self.people: dict[str, dict[str, Any]] = {}
        self.signed_in: str | None = None
        self._user_codes: dict[
            str, tuple[str, str, str, float]
        ] = {}  # code -> login, client, uri, expiry
        self._user_tokens: dict[str, str] = {}  # token -> login

    # ----------------------------------------------------------------- what tests set

    def add_oauth_client(self, client_id: str, client_secret: str) -> None:
        self.oauth_clients[client_id] = client_secret

    def sign_in_as(self, login: str, user_id: int, name: str | None = None) -> None:
        """The person at the browser is signed in to the fake GitHub as ``login``."""
        self.people[login] = {
            "login": login,
            "id": user_id,
            "node_id": f"U_{user_id}",
            "type": "User",
            "name": name,
            "email": None,
            "site_admin": False,
            "html_url": f"https://github.com/{login}",
        }
        self.signed_in = login

    # ----------------------------------------------------------------- routing

    async def _web_page(self, request: web.Request) -> web.StreamResponse | None:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "GET" and parts == ["login", "oauth", "authorize"]:
            return self._oauth_authorize(request)
        if request.method == "POST" and parts == ["login", "oauth", "access_token"]:
            return await self._oauth_access_token(request)
        if request.method == "GET" and parts == ["user"]:
            return self._oauth_user(request)
        return await super()._web_page(request)

    def _secret_of(self, client_id: str) -> str | None:
        if client_id in self.oauth_clients:
            return self.oauth_clients[client_id]
        for app in self.registered_apps.values():
            if app.client_id == client_id:
                return app.client_secret
        return None

    def _callback_urls(self, client_id: str) -> list[str] | None:
        """A registered App's callback URLs (its manifest's); None for a test's client."""
        for app in self.registered_apps.values():
            if app.client_id == client_id:
                return [str(u) for u in app.manifest.get("callback_urls") or []]
        return None

    def _oauth_authorize(self, request: web.Request) -> web.Response:
        client_id = request.query.get("client_id", "")
        redirect_uri = request.query.get("redirect_uri", "")
        if self._secret_of(client_id) is None or not redirect_uri.startswith(
            ("http://", "https://")
        ):
            return web.Response(status=404, text="Not Found")
        allowed = self._callback_urls(client_id)
        if allowed is not None and not any(redirect_uri.startswith(url) for url in allowed):
            # GitHub: "The redirect_uri is not associated with this application."
            return web.Response(status=400, text="The redirect_uri MUST match the callback URL")
        if self.signed_in is None:
            return web.Response(status=200, text="Sign in to GitHub", content_type="text/html")
        code = secrets.token_hex(10)
        self._user_codes[code] = (
            self.signed_in,
            client_id,
            redirect_uri,
            time.time() + CODE_SECONDS,
        )
        query = urlencode({"code": code, "state": request.query.get("state", "")})
        separator = "&" if "?" in redirect_uri else "?"
        return web.Response(status=302, headers={"Location": f"{redirect_uri}{separator}{query}"})

    async def _oauth_access_token(self, request: web.Request) -> web.Response:
        form: dict[str, Any] = {}
        if request.content_type == "application/json":
            form = await request.json()
        else:
            form = dict(await request.post())
        code = str(form.get("code", ""))
        client_id = str(form.get("client_id", ""))
        found = self._user_codes.pop(code, None)
        secret = self._secret_of(client_id)
        valid = (
            found is not None
            and secret is not None
            and secrets.compare_digest(secret, str(form.get("client_secret", "")))
            and found[1] == client_id
            and found[3] > time.time()
            and str(form.get("redirect_uri", found[2])) == found[2]
        )
        if not valid:
            # GitHub answers 200 with an error for a bad or spent code.
            return web.json_response(
                {
                    "error": "bad_verification_code",
                    "error_description": "The code passed is incorrect or expired.",
                }
            )
        assert found is not None
        token = "ghu_" + secrets.token_urlsafe(27)
        self._user_tokens[token] = found[0]
        return web.json_response({"access_token": token, "token_type": "bearer", "scope": ""})

    def _oauth_user(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        token = header.split(" ", 1)[1] if " " in header else ""
        login = self._user_tokens.get(token)
        if login is None:
            return web.json_response(
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
                status=401,
            )
        return web.json_response(self.people[login])
