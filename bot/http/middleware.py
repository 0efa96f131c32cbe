"""What every response passes through: errors become ``{"error", "hint"}`` JSON (a 500 is a
logged bug that leaks nothing; a client that hung up or sent a broken body is one INFO line),
and pages get their security headers."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

from bot.errors import ApiError

log = logging.getLogger(__name__)

# The machine-facing paths: errors there are always JSON, and pages' headers stay off them.
JSON_PATH_PREFIXES = ("/api/", "/webhooks/", "/healthz")

_HINTS_FOR_HTTP = {
    404: ("Not found", "Check the path; GET /api/openapi.json lists every endpoint."),
    405: ("Method not allowed", "GET /api/openapi.json lists the methods of every endpoint."),
    413: ("Request body too large", "Send a smaller body."),
}

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


def is_json_path(path: str) -> bool:
    return path.startswith(JSON_PATH_PREFIXES)


def error_body(error: str, hint: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error}
    body.update(extra)
    if hint:
        body["hint"] = hint
    return body


def error_response(
    status: int,
    error: str,
    hint: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    return web.json_response(error_body(error, hint, **extra), status=status, headers=headers)


def _wants_json(request: web.Request) -> bool:
    return is_json_path(request.path) or "text/html" not in request.headers.get("Accept", "")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.error, exc.hint, headers=exc.headers, **exc.extra)
    except web.HTTPException as exc:
        if exc.status < 400 or not _wants_json(request) or exc.content_type == "application/json":
            raise
        error, hint = _HINTS_FOR_HTTP.get(exc.status, (exc.reason, None))
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return error_response(exc.status, error, hint, headers=headers)
    except asyncio.CancelledError:
        # The server is stopping (or aiohttp gave up on the connection) mid-request.
        log.info("request cancelled before its answer", extra=_where(request))
        raise
    except Exception as exc:
        answer = _client_fault(request, exc)
        if answer is not None:
            return answer
        request_id = uuid.uuid4().hex[:12]
        log.exception(
            "unhandled error",
            extra={"request_id": request_id, "method": request.method, "path": request.path},
        )
        return error_response(
            500,
            "Internal server error",
            f"This is a bug in TinyDesk; quote request id {request_id} when reporting it.",
            requestId=request_id,
        )


def _client_fault(request: web.Request, exc: Exception) -> web.Response | None:
    """The answer (and one INFO line) when ``exc`` is the client's doing, not a bug: it hung
    up while its body was read, or the body broke off or is badly chunked."""
    if isinstance(exc, RequestPayloadError):
        reason = str(exc.__cause__ or exc).partition("\n")[0]
        log.info("unreadable request body: %s", reason, extra=_where(request))
        return error_response(
            400, "Malformed body", "The body's chunked encoding or length is not valid HTTP/1.1."
        )
    transport = request.transport
    if isinstance(exc, ConnectionResetError) and (transport is None or transport.is_closing()):
        # A reset of our own (the database, GitHub) with the client still there is a bug.
        log.info("client hung up mid-request", extra=_where(request))
        # Nobody reads this answer; aiohttp drops it quietly.
        return error_response(400, "Connection closed", "The client hung up mid-request.")
    return None


def _where(request: web.Request) -> dict[str, str]:
    return {"method": request.method, "path": request.path}


async def add_security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: every page and static file gets the headers; the JSON
    paths keep their own."""
    if is_json_path(request.path):
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
