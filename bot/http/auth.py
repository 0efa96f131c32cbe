"""Who is calling: the bearer token, the admin token check and the desk key check (with its
per-key request limit)."""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.errors import ApiError
from bot.http.bodies import unstorable
from bot.http.ratelimit import client_address, enforce
from bot.tickets.apikeys import KeyScope, authenticate

DESK_UNAUTHORIZED_HINT = (
    "Send a desk API key as `Authorization: Bearer td_live_…`; an admin creates one with "
    "`tinydesk keys create --name NAME`. Revoked keys stop working at once."
)


def bearer_token(request: web.Request) -> str | None:
    """The bearer token, or None; bytes that are not UTF-8 (lone surrogates to aiohttp) are
    no token of ours, and could not even be hashed."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or unstorable(token):
        return None
    return token.strip()


def require_admin(request: web.Request) -> None:
    """The admin API wants ``Authorization: Bearer $TINYDESK_ADMIN_TOKEN`` (403 while unset)."""
    expected = request.config_dict[SETTINGS].admin_token
    if not expected:
        raise ApiError(
            403,
            "Admin API disabled",
            "Set TINYDESK_ADMIN_TOKEN on the server to turn the admin API on.",
        )
    token = bearer_token(request)
    if token is None or not secrets.compare_digest(token.encode(), expected.encode()):
        raise ApiError(
            401,
            "Unauthorized",
            "Send the admin token as `Authorization: Bearer <TINYDESK_ADMIN_TOKEN>`.",
            headers={"WWW-Authenticate": 'Bearer realm="tinydesk-admin"'},
        )


async def authenticate_desk_key(request: web.Request) -> KeyScope:
    """The desk key the request carries, counted against its per-minute limit; 401 without one."""
    limits = request.config_dict[SETTINGS].rate_limits
    scope = await authenticate(request.config_dict[DB], bearer_token(request))
    if scope is None:
        # Failed attempts are limited per address, so they too carry the headers.
        bucket = f"desk-anonymous:{client_address(request)}"
        enforce(request, bucket, limits.desk_requests_per_minute)
        raise ApiError(
            401,
            "Unauthorized",
            DESK_UNAUTHORIZED_HINT,
            headers={"WWW-Authenticate": 'Bearer realm="tinydesk-desk"'},
        )
    enforce(request, f"desk:{scope.key_id}", limits.desk_requests_per_minute)
    return scope
