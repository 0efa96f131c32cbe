"""GitHub access as the App: the app JWT, cached installation tokens, and API clients.

Every request goes to ``GITHUB_API_URL`` (github.com, GitHub Enterprise Server or a test
fake). Failures are translated into the worker's vocabulary: ``RetryLater`` for what time
fixes (5xx, timeouts, rate limits, with GitHub's own wait when it gives one), ``GiveUp``
for what it does not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import cachetools
import jwt
from aiohttp import web
from gidgethub import BadRequest, GitHubBroken, HTTPException, RateLimitExceeded
from gidgethub.aiohttp import GitHubAPI
from gidgethub.sansio import RateLimit

from bot.jobs.outcomes import GiveUp, RetryLater

log = logging.getLogger(__name__)

USER_AGENT = "TinyDesk (+https://github.com/apps/tinydesk)"
JWT_BACKDATE_SECONDS = 60  # clocks drift; GitHub rejects an iat in the future
JWT_LIFETIME_SECONDS = 9 * 60  # GitHub allows at most 10 minutes
TOKEN_RENEW_MARGIN = dt.timedelta(minutes=5)
SECONDARY_LIMIT_WAIT = 60.0
NOT_FOUND_WAIT = 300.0  # the App may not be installed on the repository yet


def app_jwt(app_id: str, private_key: str, *, now: float | None = None) -> str:
    """A JWT that authenticates as the App itself (RS256, back-dated, under 10 minutes)."""
    issued = int(now if now is not None else time.time()) - JWT_BACKDATE_SECONDS
    payload = {
        "iat": issued,
        "exp": issued + JWT_BACKDATE_SECONDS + JWT_LIFETIME_SECONDS,
        "iss": str(app_id),
    }
    return jwt.encode(payload, private_key, algorithm="RS256")


def _token_time_to_use(_key, value: tuple[str, dt.datetime], now: float) -> float:
    """An installation token leaves the cache five minutes before GitHub expires it."""
    return now + max((value[1] - TOKEN_RENEW_MARGIN - dt.datetime.now(dt.UTC)).total_seconds(), 0)


class GitHubApp:
    """The App's identity and its installation tokens (one cache per process)."""

    def __init__(
        self, http: aiohttp.ClientSession, *, app_id: str, private_key: str, base_url: str
    ) -> None:
        self.http = http
        self.app_id = app_id
        self.private_key = private_key
        self.base_url = base_url.rstrip("/")
        self._tokens: cachetools.TLRUCache = cachetools.TLRUCache(
            maxsize=4096, ttu=_token_time_to_use, timer=time.time
        )
        self._locks: dict[int, asyncio.Lock] = {}
        self._bot_login: str | None = None
        self._bot_login_retry_at = 0.0
        # The last rate limit GitHub reported per installation (x-ratelimit-remaining/-reset).
        self.rate_limits: dict[int, RateLimit] = {}

    def api(self, token: str | None = None) -> GitHubAPI:
        return GitHubAPI(self.http, USER_AGENT, oauth_token=token, base_url=self.base_url)

    def jwt(self) -> str:
        return app_jwt(self.app_id, self.private_key)

    async def installation_token(self, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached is not None:
            return cached[0]
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached is not None:
                return cached[0]
            answer = await call(
                self.api().post(
                    "/app/installations/{installation_id}/access_tokens",
                    url_vars={"installation_id": str(installation_id)},
                    data={},
                    jwt=self.jwt(),
                )
            )
            expires = _parse_time(answer.get("expires_at")) or (
                dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            )
            self._tokens[installation_id] = (answer["token"], expires)
            return answer["token"]

    def forget_token(self, installation_id: int) -> None:
        self._tokens.pop(installation_id, None)

    async def installation(self, installation_id: int) -> InstallationClient:
        return InstallationClient(
            self, installation_id, await self.installation_token(installation_id)
        )

    async def find_installation(self, owner: str, repo: str) -> int | None:
        """The installation that covers a repository, or None if the App is not installed there."""
        try:
            answer = await self.api().getitem(
                "/repos/{owner}/{repo}/installation",
                url_vars={"owner": owner, "repo": repo},
                jwt=self.jwt(),
            )
        except BadRequest as exc:
            if exc.status_code == 404:
                return None
            raise translate(exc) from exc
        except Exception as exc:
            raise translate(exc) from exc
        return int(answer["id"])

    def known_bot_login(self) -> tuple[bool, str | None]:
        """(whether ``bot_login()`` would answer without calling GitHub, its answer)."""
        known = self._bot_login is not None or time.monotonic() < self._bot_login_retry_at
        return known, self._bot_login

    async def bot_login(self) -> str | None:
        """``<app-slug>[bot]``, the login our own actions carry (from GET /app, once)."""
        if self._bot_login is None and time.monotonic() >= self._bot_login_retry_at:
            try:
                answer = await self.api().getitem("/app", jwt=self.jwt())
                self._bot_login = f"{answer['slug']}[bot]"
            except Exception:
                # Not worth a call per delivery while GitHub is unwell: ask again later.
                self._bot_login_retry_at = time.monotonic() + 300
                log.warning("could not read the App's slug from GET /app", exc_info=True)
        return self._bot_login


# The App's client, or None while GitHub is not configured.
GITHUB: web.AppKey[GitHubApp | None] = web.AppKey("github")


class InstallationClient:
    """Calls on behalf of one installation; a 401 drops the cached token so the retry renews it."""

    def __init__(self, app: GitHubApp, installation_id: int, token: str) -> None:
        self.app = app
        self.installation_id = installation_id
        self.gh = app.api(token)

    async def getitem(self, url: str, url_vars: dict[str, Any] | None = None) -> Any:
        return await self._call(self.gh.getitem(url, url_vars=_strings(url_vars)))

    async def getiter_list(
        self, url: str, url_vars: dict[str, Any] | None = None, *, limit: int = 1000
    ) -> list[Any]:
        items = []

        async def collect() -> list[Any]:
            async for item in self.gh.getiter(url, url_vars=_strings(url_vars)):
                items.append(item)
                if len(items) >= limit:
                    break
            return items

        return await self._call(collect())

    async def post(self, url: str, url_vars: dict[str, Any] | None = None, *, data: Any) -> Any:
        return await self._call(self.gh.post(url, url_vars=_strings(url_vars), data=data))

    async def patch(self, url: str, url_vars: dict[str, Any] | None = None, *, data: Any) -> Any:
        return await self._call(self.gh.patch(url, url_vars=_strings(url_vars), data=data))

    async def delete(self, url: str, url_vars: dict[str, Any] | None = None) -> None:
        await self._call(self.gh.delete(url, url_vars=_strings(url_vars)))

    async def _call(self, request) -> Any:
        self._wait_out_exhausted_quota(request)
        try:
            return await call(request)
        except RetryLater as exc:
            if getattr(exc, "status", None) == 401:
                self.app.forget_token(self.installation_id)
            raise
        finally:
            if self.gh.rate_limit is not None:
                self.app.rate_limits[self.installation_id] = self.gh.rate_limit

    def _wait_out_exhausted_quota(self, request) -> None:
        """Spend no call GitHub would refuse: with no requests left until the reset, wait."""
        limit = self.app.rate_limits.get(self.installation_id)
        if limit is None or limit.remaining > 0:
            return
        wait = (limit.reset_datetime - dt.datetime.now(dt.UTC)).total_seconds()
        if wait > 0:
            request.close()  # the coroutine was never awaited
            raise GitHubRetry(
                f"GitHub rate limit exhausted until {limit.reset_datetime}", after=wait + 1
            )


def _strings(url_vars: dict[str, Any] | None) -> dict[str, str]:
    return {k: str(v) for k, v in (url_vars or {}).items()}


async def call(request) -> Any:
    """Await one gidgethub request, translating its failures."""
    try:
        return await request
    except Exception as exc:
        raise translate(exc) from exc


class GitHubRetry(RetryLater):
    def __init__(
        self, message: str, *, after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, after=after)
        self.status = status


class GitHubRejected(GiveUp):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubNotFound(GitHubRetry):
    """404: gone, or not visible to this installation yet. Callers for whom "gone" is an answer
    catch it; left alone it is retried later (installing the App on the repository resumes work)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, after=NOT_FOUND_WAIT, status=404)


class GitHubUnprocessable(GitHubRejected):
    """422: GitHub understood the request and refused it (e.g. a label that exists already)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=422)


def translate(exc: BaseException) -> Exception:
    """Map a failed GitHub call to RetryLater (with GitHub's wait if it said one) or GiveUp."""
    if isinstance(exc, (RetryLater, GiveUp)):
        return exc
    if isinstance(exc, RateLimitExceeded):
        # (RateLimit is falsy when no requests remain: compare with None.)
        reset = exc.rate_limit.reset_datetime if exc.rate_limit is not None else None
        wait = (reset - dt.datetime.now(dt.UTC)).total_seconds() if reset else SECONDARY_LIMIT_WAIT
        return GitHubRetry(
            f"GitHub rate limit exhausted until {reset}", after=max(wait, 1.0), status=403
        )
    if isinstance(exc, HTTPException):
        status = int(exc.status_code)
        retry_after = _retry_after(exc.headers)
        message = f"GitHub answered {status}: {_message(exc)}"
        if isinstance(exc, GitHubBroken) or status >= 500:
            return GitHubRetry(message, after=retry_after, status=status)
        if status == 429 or (
            status == 403 and (retry_after is not None or "rate limit" in message.lower())
        ):
            return GitHubRetry(message, after=retry_after or SECONDARY_LIMIT_WAIT, status=status)
        if status == 401:
            return GitHubRetry(message, after=retry_after, status=status)
        if status == 404:
            return GitHubNotFound(message)
        if status == 422:
            return GitHubUnprocessable(message)
        return GitHubRejected(message, status=status)
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)):
        return GitHubRetry(f"GitHub unreachable: {type(exc).__name__}: {exc}")
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


def _message(exc: HTTPException) -> str:
    return " ".join(str(a) for a in exc.args[1:]) or getattr(exc.status_code, "phrase", "")


def _retry_after(headers) -> float | None:
    if not headers:
        return None
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


async def client_session() -> AsyncIterator[aiohttp.ClientSession]:
    """The one HTTP client session for GitHub calls, with timeouts so a hung call is retried."""
    timeout = aiohttp.ClientTimeout(total=30, connect=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        yield http
