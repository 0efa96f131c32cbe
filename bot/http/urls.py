"""What a request says about where it came from: its origin, the tracking links we hand out,
and the tracking token it carries."""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import SETTINGS
from bot.http.bodies import unstorable
from bot.views.public import TOKEN_HEADER


def request_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def tracking_url(request: web.Request, public_id: str, token: str | None = None) -> str:
    base = request.config_dict[SETTINGS].base_url(request_origin(request))
    url = f"{base}/track/{public_id}"
    return f"{url}?token={token}" if token else url


def tracking_token(request: web.Request) -> str | None:
    """The tracking token, from ``?token=`` or the ``X-Tracking-Token`` header; a header that
    is not UTF-8 (lone surrogates to aiohttp, which no hash takes) is no token."""
    token = request.query.get("token") or request.headers.get(TOKEN_HEADER)
    return None if token is None or unstorable(token) else token
