"""Who is calling: the bearer token, the admin token check (with its limit on wrong tokens per
client address) and the desk key check (with its per-key request limit)."""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.errors import ApiError
from bot.http.bodies import unstorable
from bot.http.ratelimit import (
    ADMIN_TOKEN_FAILURES,
    ADMIN_TOKEN_WINDOW,
    RATE_LIMITER,
    admin_token_failures,
    client_address,
    enforce,
    too_many_requests,
)
from bot.rules import staff as staff_rules
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


async def require_admin(request: web.Request) -> None:
    """The admin API wants ``Authorization: Bearer $TINYDESK_ADMIN_TOKEN`` (403 while unset).

    A client address that sent ``ADMIN_TOKEN_FAILURES`` wrong tokens is answered 429 until its
    window ends, the right token included (so guessing cannot go on at full speed); requests
    with the right token are not counted."""
    expected = request.config_dict[SETTINGS].admin_token
    if not expected:
        raise ApiError(
            403,
            "Admin API disabled",
            "Set TINYDESK_ADMIN_TOKEN on the server to turn the admin API on.",
        )
    limiter = request.config_dict[RATE_LIMITER]
    bucket = admin_token_failures(request)
    wait = await limiter.retry_after(bucket, ADMIN_TOKEN_FAILURES, ADMIN_TOKEN_WINDOW)
    if wait:
        raise too_many_requests(
            wait,
            f"Too many wrong admin tokens from this address. Try again in {wait} seconds.",
        )
    token = bearer_token(request)
    if token is None or not secrets.compare_digest(token.encode(), expected.encode()):
        await limiter.record_failure(bucket, ADMIN_TOKEN_WINDOW)
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
        await enforce(request, bucket, limits.desk_requests_per_minute)
        raise ApiError(
            401,
            "Unauthorized",
            DESK_UNAUTHORIZED_HINT,
            headers={"WWW-Authenticate": 'Bearer realm="tinydesk-desk"'},
        )
    await enforce(request, f"desk:{scope.key_id}", limits.desk_requests_per_minute)
    if scope.role is not None and not staff_rules.allows(
        scope.role, staff_rules.for_method(request.method)
    ):
        # A person's key does what their role may (issue 19): a viewer's key only reads.
        raise ApiError(
            403,
            "Not allowed",
            f"This key belongs to a {scope.role}, who may only read; ask an admin for a "
            "role that may change tickets.",
        )
    return scope
