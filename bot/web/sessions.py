"""Admin sessions for the pages: a random server-side session id in an HttpOnly, SameSite=Strict
cookie, a per-session CSRF token every POST form must echo, and a sign-in throttle.

Sessions are kept in the app's ``SharedState`` (``storage.limits``): in the database or Redis,
so an admin signed in on one server process is signed in on all of them and a restart signs
nobody out; in memory on SQLite (one process), where a restart signs admins out. Failed
sign-ins share the admin API's budget of wrong tokens per client address
(``bot.http.ratelimit.ADMIN_TOKEN_FAILURES``): both are guesses at the same secret.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable

from aiohttp import web

from bot.appkeys import SETTINGS
from bot.http.ratelimit import state_reachable
from storage.limits import MemoryState, SharedState

SESSION_COOKIE = "tinydesk_admin"
# Before there is a session, the sign-in form is protected by a double-submit cookie.
SIGN_IN_COOKIE = "tinydesk_admin_sign_in"
COOKIE_PATH = "/admin"
CSRF_FIELD = "csrf_token"

SESSION_LIFETIME = 12 * 3600
SESSION_IDLE = 2 * 3600


@dataclasses.dataclass(frozen=True)
class AdminSession:
    id: str
    csrf_token: str
    # Set when a staff admin opened the console from the workspace: their stf_ id.
    staff_desk_id: str | None = None


class SessionStore:
    """Signed-in admin sessions, by their random id, in ``state`` (set when the app starts)."""

    def __init__(
        self, state: SharedState | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.state: SharedState = state if state is not None else MemoryState()
        self.clock = clock

    async def start(self) -> AdminSession:
        admin_session = AdminSession(
            id=secrets.token_urlsafe(32), csrf_token=secrets.token_urlsafe(32)
        )
        with state_reachable():
            await self.state.start_session(admin_session.id, admin_session.csrf_token, self.clock())
        return admin_session

    async def get(self, session_id: str | None) -> AdminSession | None:
        if not session_id or len(session_id) > 100:
            return None
        with state_reachable():
            csrf_token = await self.state.touch_session(
                session_id, self.clock(), lifetime=SESSION_LIFETIME, idle=SESSION_IDLE
            )
        return AdminSession(session_id, csrf_token) if csrf_token is not None else None

    async def end(self, session_id: str | None) -> None:
        if session_id and len(session_id) <= 100:
            with state_reachable():
                await self.state.end_session(session_id)


SESSIONS = web.AppKey("admin_sessions", SessionStore)


def is_secure(request: web.Request) -> bool:
    """Whether cookies may be marked Secure: HTTPS here, or at a proxy we were told to trust."""
    if request.secure:
        return True
    settings = request.app[SETTINGS]
    return settings.trust_forwarded_for and request.headers.get("X-Forwarded-Proto") == "https"


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    *,
    max_age: int,
    path: str = COOKIE_PATH,
) -> None:
    """An HttpOnly, SameSite=Strict cookie for ``path`` (the admin pages unless said)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="Strict",
        secure=is_secure(request),
    )


async def current_session(request: web.Request) -> AdminSession | None:
    return await request.app[SESSIONS].get(request.cookies.get(SESSION_COOKIE))


async def start_session(request: web.Request, response: web.StreamResponse) -> AdminSession:
    """A new session (never one the browser brought along: no session fixation)."""
    store = request.app[SESSIONS]
    await store.end(request.cookies.get(SESSION_COOKIE))
    admin_session = await store.start()
    set_cookie(request, response, SESSION_COOKIE, admin_session.id, max_age=SESSION_LIFETIME)
    response.del_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)
    return admin_session


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    await request.app[SESSIONS].end(request.cookies.get(SESSION_COOKIE))
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def csrf_ok(admin_session: AdminSession, submitted: object) -> bool:
    """Whether a POSTed form carries this session's CSRF token (constant-time compare)."""
    return isinstance(submitted, str) and secrets.compare_digest(
        submitted.encode(), admin_session.csrf_token.encode()
    )


def sign_in_token(request: web.Request, cookie_name: str = SIGN_IN_COOKIE) -> str:
    """A sign-in form's CSRF token (double submit, before there is a session): the one in the
    browser's cookie ``cookie_name``, or a new one. The staff sign-in has its own cookie."""
    existing = request.cookies.get(cookie_name)
    return existing if existing and len(existing) >= 32 else secrets.token_urlsafe(32)


def sign_in_csrf_ok(
    request: web.Request, submitted: object, cookie_name: str = SIGN_IN_COOKIE
) -> bool:
    cookie = request.cookies.get(cookie_name)
    return (
        cookie is not None
        and bool(cookie)
        and isinstance(submitted, str)
        and secrets.compare_digest(submitted.encode(), cookie.encode())
    )
