"""Admin sessions for the pages: a random server-side session id in an HttpOnly, SameSite=Strict
cookie, a per-session CSRF token every POST form must echo, and a sign-in throttle.

Sessions live in this process's memory: a restart signs admins out (they sign in again with
the admin token) and several server processes would not share them. ``SessionStore`` is the
seam for a database-backed store if that is ever needed.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

from bot.appkeys import SETTINGS

SESSION_COOKIE = "tinydesk_admin"
# Before there is a session, the sign-in form is protected by a double-submit cookie.
SIGN_IN_COOKIE = "tinydesk_admin_sign_in"
COOKIE_PATH = "/admin"
CSRF_FIELD = "csrf_token"

SESSION_LIFETIME = 12 * 3600
SESSION_IDLE = 2 * 3600
MAX_SESSIONS = 1000

SIGN_IN_ATTEMPTS = 5
SIGN_IN_WINDOW = 300
MAX_TRACKED_CLIENTS = 10_000


@dataclasses.dataclass
class AdminSession:
    id: str
    csrf_token: str
    started: float
    last_seen: float


class SignInThrottle:
    """At most ``attempts`` failed sign-ins per client per ``window`` seconds."""

    def __init__(
        self,
        *,
        attempts: int = SIGN_IN_ATTEMPTS,
        window: float = SIGN_IN_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self.failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again; 0 if it may now."""
        recent = self._recent(client)
        if len(recent) < self.attempts:
            return 0
        return max(1, int(recent[0] + self.window - self.clock()) + 1)

    def record_failure(self, client: str) -> None:
        if len(self.failures) >= MAX_TRACKED_CLIENTS:
            self.failures.clear()
        self._recent(client).append(self.clock())

    def forget(self, client: str) -> None:
        self.failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        recent = self.failures.setdefault(client, deque())
        while recent and recent[0] <= self.clock() - self.window:
            recent.popleft()
        return recent


class SessionStore:
    """Signed-in admin sessions, by their random id."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.sessions: dict[str, AdminSession] = {}
        self.throttle = SignInThrottle(clock=clock)

    def start(self) -> AdminSession:
        self._drop_expired()
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = min(self.sessions.values(), key=lambda s: s.last_seen)
            self.sessions.pop(oldest.id)
        now = self.clock()
        admin_session = AdminSession(
            id=secrets.token_urlsafe(32),
            csrf_token=secrets.token_urlsafe(32),
            started=now,
            last_seen=now,
        )
        self.sessions[admin_session.id] = admin_session
        return admin_session

    def get(self, session_id: str | None) -> AdminSession | None:
        if not session_id:
            return None
        admin_session = self.sessions.get(session_id)
        if admin_session is None:
            return None
        now = self.clock()
        if self._expired(admin_session, now):
            self.sessions.pop(admin_session.id, None)
            return None
        admin_session.last_seen = now
        return admin_session

    def end(self, session_id: str | None) -> None:
        if session_id:
            self.sessions.pop(session_id, None)

    def _expired(self, admin_session: AdminSession, now: float) -> bool:
        return (
            now - admin_session.started > SESSION_LIFETIME
            or now - admin_session.last_seen > SESSION_IDLE
        )

    def _drop_expired(self) -> None:
        now = self.clock()
        for admin_session in [s for s in self.sessions.values() if self._expired(s, now)]:
            self.sessions.pop(admin_session.id, None)


SESSIONS = web.AppKey("admin_sessions", SessionStore)


def is_secure(request: web.Request) -> bool:
    """Whether cookies may be marked Secure: HTTPS here, or at a proxy we were told to trust."""
    if request.secure:
        return True
    settings = request.app[SETTINGS]
    return settings.trust_forwarded_for and request.headers.get("X-Forwarded-Proto") == "https"


def set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, *, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_secure(request),
    )


def current_session(request: web.Request) -> AdminSession | None:
    return request.app[SESSIONS].get(request.cookies.get(SESSION_COOKIE))


def start_session(request: web.Request, response: web.StreamResponse) -> AdminSession:
    """A new session (never one the browser brought along: no session fixation)."""
    store = request.app[SESSIONS]
    store.end(request.cookies.get(SESSION_COOKIE))
    admin_session = store.start()
    set_cookie(request, response, SESSION_COOKIE, admin_session.id, max_age=SESSION_LIFETIME)
    response.del_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)
    return admin_session


def end_session(request: web.Request, response: web.StreamResponse) -> None:
    request.app[SESSIONS].end(request.cookies.get(SESSION_COOKIE))
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def csrf_ok(admin_session: AdminSession, submitted: object) -> bool:
    """Whether a POSTed form carries this session's CSRF token (constant-time compare)."""
    return isinstance(submitted, str) and secrets.compare_digest(
        submitted.encode(), admin_session.csrf_token.encode()
    )


def sign_in_token(request: web.Request) -> str:
    """The sign-in form's CSRF token: the one in the browser's cookie, or a new one."""
    existing = request.cookies.get(SIGN_IN_COOKIE)
    return existing if existing and len(existing) >= 32 else secrets.token_urlsafe(32)


def sign_in_csrf_ok(request: web.Request, submitted: object) -> bool:
    cookie = request.cookies.get(SIGN_IN_COOKIE)
    return (
        cookie is not None
        and bool(cookie)
        and isinstance(submitted, str)
        and secrets.compare_digest(submitted.encode(), cookie.encode())
    )
