"""Staff sessions: a random id in an HttpOnly, SameSite=Strict cookie on ``/desk``, the row
(keyed by the id's hash) in the database, so every server process sees it and a restart
signs nobody out; a CSRF token per session that every POST echoes. A session lasts 12 hours
and ends after 2 idle ones; ``last_seen_at`` is written at most once a minute.

A staff admin who opens the admin console (the workspace's Settings) carries the same
session to ``/admin`` in a second cookie (``CONSOLE_COOKIE``, that path only): the console
is then the person's session itself, so signing out, signing out everywhere, being disabled
or losing the admin role ends it on the next request, with nothing else to revoke."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from aiohttp import web
from sqlalchemy import delete, update

from bot.rules import ids
from storage.database import Database
from storage.models import StaffAccount, StaffSession
from storage.reads.staff_sessions import session_and_account
from storage.types import utcnow

COOKIE = "tinydesk_staff"
COOKIE_PATH = "/desk"
CONSOLE_COOKIE = "tinydesk_staff_console"
CONSOLE_COOKIE_PATH = "/admin"
LIFETIME = dt.timedelta(hours=12)
IDLE = dt.timedelta(hours=2)
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class SignedIn:
    account: StaffAccount
    csrf_token: str
    session_hash: str


def _set_cookie(response: web.StreamResponse, name: str, value: str, path: str) -> None:
    response.set_cookie(
        name,
        value,
        path=path,
        httponly=True,
        samesite="Strict",
        secure=False,  # the deployment's proxy terminates TLS; the cookie works on both
        max_age=int(LIFETIME.total_seconds()),
    )


async def start(db: Database, account: StaffAccount, response: web.StreamResponse) -> str:
    """A new session for ``account``; sets its cookie on ``response``; its CSRF token."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    async with db.begin() as session:
        session.add(
            StaffSession(
                id_hash=ids.hash_secret(session_id),
                staff_id=account.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
            )
        )
    _set_cookie(response, COOKIE, session_id, COOKIE_PATH)
    return csrf


async def current(db: Database, request: web.Request) -> SignedIn | None:
    """The workspace's signed-in person (the ``/desk`` cookie), or None."""
    return await by_id(db, request.cookies.get(COOKIE))


def open_console(request: web.Request, response: web.StreamResponse) -> None:
    """Carry this request's workspace session to the admin console (``console_session``)."""
    _set_cookie(response, CONSOLE_COOKIE, request.cookies[COOKIE], CONSOLE_COOKIE_PATH)


async def console_session(db: Database, request: web.Request) -> SignedIn | None:
    """On an ``/admin`` request, the workspace session a staff admin opened it with, while
    that session lasts and the account is enabled (the caller checks the role)."""
    return await by_id(db, request.cookies.get(CONSOLE_COOKIE))


def close_console(response: web.StreamResponse) -> None:
    response.del_cookie(CONSOLE_COOKIE, path=CONSOLE_COOKIE_PATH)


async def by_id(db: Database, session_id: str | None) -> SignedIn | None:
    if not session_id or len(session_id) > 100:
        return None
    key = ids.hash_secret(session_id)
    now = utcnow()
    stored = await session_and_account(db.reader, key)
    if stored is None:
        return None
    account = stored.account
    expired = now - stored.created_at > LIFETIME or now - stored.last_seen_at > IDLE
    if expired or account.disabled_at is not None:
        await end(db, session_id)
        return None
    if now - stored.last_seen_at > TOUCH_EVERY:
        async with db.begin() as session:
            await session.execute(
                update(StaffSession).where(StaffSession.id_hash == key).values(last_seen_at=now)
            )
    return SignedIn(account, stored.csrf_token, key)


async def end(db: Database, session_id: str) -> None:
    async with db.begin() as session:
        await session.execute(
            delete(StaffSession).where(StaffSession.id_hash == ids.hash_secret(session_id))
        )


def csrf_ok(signed_in: SignedIn, token: object) -> bool:
    return isinstance(token, str) and secrets.compare_digest(token, signed_in.csrf_token)
