"""The fake GitHub's HTTP side: an aiohttp app on loopback that routes every request, checks
its auth as GitHub does (App JWT or installation token), applies rate limits and injected
failures, calls the handler and logs the call."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web

from bot.sim.fakegithub.failures import FailureInjection
from bot.sim.fakegithub.routes import JWT_OPERATIONS, NO_AUTH_OPERATIONS, match
from bot.sim.fakegithub.state import DOCS_URL, RATE_LIMIT, Reply


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    operation: str | None  # "POST /repos/{owner}/{repo}/issues", None when unexpected
    auth: str  # "jwt", "token", "none" or "invalid"
    body: Any = None
    installation_id: int | None = None
    injected: str | None = None  # why the answer was a made-up failure, if it was


class Server(FailureInjection):
    """Serves the state over HTTP on 127.0.0.1 and keeps the call log."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[Call] = []
        self.unexpected: list[Call] = []
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        """Listen on a random loopback port; returns the base URL (use as GITHUB_API_URL)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        """Stop the server; delayed (timeout-simulating) answers are cut short."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- HTTP plumbing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path
        operation, params = match(request.method, path)
        query = dict(request.query)
        raw_body = await request.read()
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode(errors="replace")
        if operation is None:
            call = Call(request.method, path, query, 404, None, "none", body)
            self.unexpected.append(call)
            self.calls.append(call)
            return self._json(404, {"message": "Not Found", "documentation_url": DOCS_URL})

        auth, installation_id, auth_error = self._authenticate(request, operation, params)
        injected: str | None = None
        headers = self._rate_headers()
        try:
            if auth_error is not None:
                raise auth_error
            failure = self._take_failure(operation)
            if failure is None and self._rate_remaining <= 0 and operation not in JWT_OPERATIONS:
                if time.time() >= self._rate_reset:
                    self._rate_remaining = RATE_LIMIT
                else:
                    injected = "primary rate limit"
                    raise Reply(
                        403, f"API rate limit exceeded for installation ID {installation_id}."
                    )
            if failure is not None:
                injected = f"fail_next/rate {failure.status}"
                status, payload = await self._apply_failure(
                    failure, request, operation, params, query, body, headers
                )
            else:
                self._validate_request(operation, query, body, raw_body)
                status, payload = await self._handle(
                    operation, params, query, body, auth, headers, request
                )
                self._check_response(operation, status, payload)
        except Reply as reply:
            status, payload = reply.status, reply.body
        except Exception as error:  # a bug of the fake: make it loud, not a silent 500
            self.response_errors.append(f"{operation}: fake crashed: {error!r}")
            status, payload = 500, {"message": f"fake crashed: {error!r}"}
        if operation not in JWT_OPERATIONS and self._rate_remaining > 0:
            self._rate_remaining -= 1
        self.calls.append(
            Call(
                request.method,
                path,
                query,
                status,
                operation,
                auth,
                body,
                installation_id,
                injected,
            )
        )
        return self._json(status, payload, headers)

    def _json(
        self, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> web.Response:
        if status == 204 or payload is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    def _rate_headers(self) -> dict[str, str]:
        remaining = max(self._rate_remaining - 1, 0)
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(self._rate_reset),
            "x-ratelimit-used": str(RATE_LIMIT - remaining),
            "x-ratelimit-resource": "core",
            "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": secrets.token_hex(8).upper(),
        }

    # ----------------------------------------------------------------- auth

    def _authenticate(
        self, request: web.Request, operation: str, params: dict[str, str]
    ) -> tuple[str, int | None, Reply | None]:
        header = request.headers.get("Authorization", "")
        if operation in NO_AUTH_OPERATIONS:
            return "none", None, None
        scheme, _, credential = header.partition(" ")
        scheme, credential = scheme.lower(), credential.strip()
        if not header:
            self.violations.append(f"{operation}: no Authorization header")
            return "none", None, Reply(401, "Requires authentication")
        looks_like_jwt = credential.count(".") == 2
        if operation in JWT_OPERATIONS:
            if scheme != "bearer" or not looks_like_jwt:
                self.violations.append(f"{operation}: needs the App JWT, got {scheme} credential")
                return "token", None, Reply(401, "A JSON web token could not be decoded")
            problem = self._jwt_problem(credential)
            if problem:
                self.violations.append(f"{operation}: bad JWT: {problem}")
                return "invalid", None, Reply(401, problem)
            return "jwt", None, None
        if scheme not in ("token", "bearer"):
            self.violations.append(f"{operation}: Authorization scheme {scheme!r}")
            return "invalid", None, Reply(401, "Bad credentials")
        if looks_like_jwt:
            self.violations.append(
                f"{operation}: called with the App JWT, not an installation token"
            )
            return "jwt", None, Reply(401, "A JSON web token could not be decoded")
        token = self._tokens.get(credential)
        if token is None:
            self.violations.append(f"{operation}: a token the fake never issued")
            return "invalid", None, Reply(401, "Bad credentials")
        if token.expires_at <= time.time():
            return "token", token.installation_id, Reply(401, "Bad credentials")
        repo_key = f"{params['owner']}/{params['repo']}".lower()
        installed = {name.lower() for name in self.installations[token.installation_id]["repos"]}
        allowed = installed if token.repos is None else installed & token.repos
        if repo_key not in allowed:
            return "token", token.installation_id, Reply(404, "Not Found")
        return "token", token.installation_id, None

    def _jwt_identity(self, credential: str) -> tuple[str, int]:
        """The public key that must verify a JWT, and the App id its issuer must be."""
        return self.public_key_pem, self.app_id

    def _jwt_problem(self, credential: str) -> str | None:
        public_key, app_id = self._jwt_identity(credential)
        try:
            claims = jwt.decode(
                credential,
                public_key,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iat", "exp", "iss"],
                },
            )
        except jwt.PyJWTError as error:
            return f"A JSON web token could not be decoded ({error})"
        now = time.time()
        if str(claims["iss"]) != str(app_id):
            return f"'Issuer' claim ('iss') must be the App ID {app_id}"
        if not isinstance(claims["iat"], int) or claims["iat"] > now + 1:
            return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
        if not isinstance(claims["exp"], int) or claims["exp"] - claims["iat"] > 600:
            return "'Expiration time' claim ('exp') is too far in the future"
        if claims["exp"] <= now:
            return (
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires"
            )
        return None
