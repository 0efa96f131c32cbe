"""The pages people look at: landing, tracking, the submission form and admin, plus their
static CSS and JS.

``setup_pages(app)`` is the one composition point: it adds every page route, the static
files and the admin session store. The security headers every page carries are added by
``bot.http.middleware.add_security_headers``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from bot.web import (
    admin,
    admin_auth,
    desk_auth,
    desk_breaches,
    desk_inbox,
    desk_new,
    desk_settings,
    desk_ticket,
    desk_ticket_actions,
    landing,
    submit,
    tracking,
)
from bot.web.admin import setup, staff
from bot.web.html import STATIC_PREFIX
from bot.web.sessions import SESSIONS, SessionStore

STATIC_DIR = Path(__file__).parent / "static"


def setup_pages(app: web.Application) -> None:
    """Add the pages, their static files and the admin session store to the TinyDesk app."""
    app[SESSIONS] = SessionStore()
    app[setup.APP_REGISTERED] = asyncio.Event()
    app[submit.SIGNING_KEY] = submit.new_signing_key()
    app.router.add_routes(landing.routes)
    app.router.add_routes(tracking.routes)
    app.router.add_routes(submit.routes)
    app.router.add_routes(admin_auth.routes)
    app.router.add_routes(admin.routes)
    app.router.add_routes(desk_auth.routes)
    app.router.add_routes(desk_inbox.routes)
    app.router.add_routes(desk_ticket.routes)
    app.router.add_routes(desk_ticket_actions.routes)
    app.router.add_routes(desk_new.routes)
    app.router.add_routes(desk_breaches.routes)
    app.router.add_routes(desk_settings.routes)
    app.router.add_routes(staff.routes)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR, name="static", append_version=False)
