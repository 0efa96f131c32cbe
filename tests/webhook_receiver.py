"""A real HTTP server on 127.0.0.1 that receives TinyDesk's signed webhooks in tests (SLA
alerts, hour-bank warnings, ticket callbacks): it checks each request's signature with the
secret TinyDesk showed once and its timestamp against now, and answers as the test says.

    hook = await start_receiver(aiohttp_server, "/hooks/sla")
    hook.secret = secret_from_the_api
    hook.answers = [500]          # the first delivery fails; later ones get 204
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from aiohttp import web

# How far a delivery's X-TinyDesk-Timestamp may be from now (README: receivers reject older).
TIMESTAMP_TOLERANCE_SECONDS = 300


class Receiver:
    def __init__(self, *, signature_header: str = "X-TinyDesk-Signature") -> None:
        self.signature_header = signature_header
        self.secret: str | None = None
        self.answers: list[int] = []  # statuses to answer, in turn; then 204
        self.received: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers["X-TinyDesk-Timestamp"]
        assert self.secret is not None
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(request.headers[self.signature_header], f"sha256={expected}")
        assert abs(int(timestamp) - time.time()) < TIMESTAMP_TOLERANCE_SECONDS
        assert request.content_type == "application/json"
        self.received.append(
            {"event": request.headers["X-TinyDesk-Event"], "body": json.loads(body), "raw": body}
        )
        return web.Response(status=self.answers.pop(0) if self.answers else 204)


async def start_receiver(aiohttp_server: Any, route: str, **options: Any) -> Receiver:
    hook = Receiver(**options)
    app = web.Application()
    app.router.add_post(route, hook.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    hook.url = str(server.make_url(route))
    return hook
