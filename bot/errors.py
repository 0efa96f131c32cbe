"""Every error a client sees is ``{"error", "hint"}`` JSON; a 500 is a logged bug that leaks nothing."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

JSON_PATH_PREFIXES = ("/api/", "/webhooks/", "/healthz")


class ApiError(Exception):
    """An expected failure that maps to a 4xx answer."""

    def __init__(
        self,
        status: int,
        error: str,
        hint: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.hint = hint
        self.headers = headers or {}
        self.extra = extra


def error_body(error: str, hint: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error}
    body.update(extra)
    if hint:
        body["hint"] = hint
    return body


def error_response(
    status: int, error: str, hint: str | None = None, *, headers=None, **extra: Any
) -> web.Response:
    return web.json_response(error_body(error, hint, **extra), status=status, headers=headers)


_HINTS_FOR_HTTP = {
    404: ("Not found", "Check the path; GET /api/openapi.json lists every endpoint."),
    405: ("Method not allowed", "GET /api/openapi.json lists the methods of every endpoint."),
    413: ("Request body too large", "Send a smaller body."),
}


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES) or "text/html" not in request.headers.get(
        "Accept", ""
    )


@web.middleware
async def error_middleware(request: web.Request, handler):
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
    except Exception:
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
