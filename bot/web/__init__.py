"""The pages people look at: landing, tracking and admin, plus their static CSS and JS.

``setup_pages(app)`` is the one composition point: it adds every page route, the static
files, the admin session store, and the security headers every non-API response carries.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web import admin, admin_auth, landing, tracking
from bot.web.html import STATIC_PREFIX
from bot.web.sessions import SESSIONS, SessionStore

STATIC_DIR = Path(__file__).parent / "static"

# No inline script or style anywhere: every page's CSS and JS comes from /static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The tracking URL carries the token: never let it leak to another site as a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

API_PATH_PREFIXES = ("/api/", "/webhooks/")


async def add_security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Every page and static file gets the headers; the JSON API keeps its own."""
    if request.path.startswith(API_PATH_PREFIXES):
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def setup_pages(app: web.Application) -> None:
    """Add the pages, their static files and their security headers to the TinyDesk app."""
    app[SESSIONS] = SessionStore()
    app.router.add_routes(landing.routes)
    app.router.add_routes(tracking.routes)
    app.router.add_routes(admin_auth.routes)
    app.router.add_routes(admin.routes)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR, name="static", append_version=False)
    app.on_response_prepare.append(add_security_headers)
