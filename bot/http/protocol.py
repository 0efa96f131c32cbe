"""What aiohttp answers before any handler runs: a request it cannot parse (a header with a
NUL byte, a bad request line, broken chunked encoding, a line too long) gets our
``{"error", "hint"}`` JSON and one INFO log line, not text/plain and an ERROR traceback:
anyone can send such bytes, so they say nothing about TinyDesk.

aiohttp has no hook for these answers (aio-libs/aiohttp#3287): ``RequestHandler.handle_error``
makes them. ``TinyDeskRunner`` is an ``AppRunner`` whose server builds ``ClientErrorHandler``s,
which override it; ``serve_until_signalled`` runs the app on it as ``tinydesk serve`` does.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from bot.http.bodies import shown
from bot.http.middleware import error_body

log = logging.getLogger(__name__)

PARSE_HINT = "The request is not valid HTTP/1.1 (RFC 9112); the server could not read it."


class ClientErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering its own 4xx in our shape."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not 400 <= status < 500:
            # A 500 or 504 from outside every middleware: a bug, aiohttp logs it in full.
            return super().handle_error(request, status, exc, message)
        # The first line only: the rest quotes the client's bytes (an Authorization header
        # perhaps), which must not reach the log.
        reason = shown(str(getattr(exc, "message", None) or message or "")).partition("\n")[0]
        reason = reason.rstrip(":").strip() or "unreadable request"
        log.info(
            "refused an unreadable request: %s",
            reason,
            extra={"status": status, "remote": request.remote, "parse_error": type(exc).__name__},
        )
        if request.writer.output_size > 0:
            raise ConnectionError("the answer had begun; the connection is closed instead")
        response = web.json_response(
            error_body("Bad request", f"{PARSE_HINT} {reason}."), status=status
        )
        response.force_close()
        return response


class _ClientErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return ClientErrorHandler(self, loop=self._loop, **self._kwargs)


class TinyDeskRunner(web.AppRunner):
    """``web.AppRunner`` whose connections answer aiohttp's own 4xx as JSON."""

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        kwargs: dict[str, Any] = dict(made._kwargs)
        return _ClientErrorServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **kwargs,
        )
